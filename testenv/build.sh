#!/bin/sh
# Builds bin/kube-testenv, stamped with the Kubernetes release it is built from, so that its API
# servers' /version says v1.37.x as a released kube-apiserver does (a plain `go build` leaves
# Kubernetes' placeholder, v0.0.0-master).
set -eu
cd "$(dirname "$0")"
version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
minor=$(echo "$version" | cut -d. -f2)
pkg=k8s.io/component-base/version
client=k8s.io/client-go/pkg/version
flags="-X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
flags="$flags -X $client.gitVersion=$version -X $client.gitMajor=1 -X $client.gitMinor=$minor"
exec go build -ldflags "$flags" -o bin/kube-testenv .
