// kube-testenv runs real Kubernetes API servers for shopctl's tests: one kube-apiserver
// (k8s.io/kubernetes, the release pinned in go.mod) per cluster, each with an etcd embedded in
// its own process, on 127.0.0.1 and free ports, with certificates made at start, static token
// users and RBAC.
//
//	kube-testenv up --dir DIR --clusters control,a,b
//
// writes DIR/kubeconfig (a context per cluster and user) and DIR/env.json, prints
// "ready DIR/kubeconfig" and serves until its standard input closes or it is signalled. While it
// runs, DIR/env.json names a control address taking
//
//	POST /clusters/NAME/stop      kill the cluster's server (and its etcd) at once
//	POST /clusters/NAME/start     start it again on the same ports and data
//	POST /clusters/NAME/compact   compact its etcd at the current revision
//
// The servers are child processes (`kube-testenv serve …`), one per cluster, since a
// kube-apiserver keeps process-wide state; they die with this process.
//
//	kube-testenv kubectl ARGS…          kubectl of the same release
//	kube-testenv measure COMMAND ARGS…  runs COMMAND; prints its wall time and peak RSS
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kube-testenv up --dir DIR --clusters NAME[,NAME…] | serve … | kubectl ARGS… | measure COMMAND ARGS…")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "serve":
		err = serve(os.Args[2:])
	case "kubectl":
		err = runKubectl(os.Args[2:])
	case "measure":
		err = measure(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (up, serve, kubectl, measure)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-testenv: %v\n", err)
		os.Exit(1)
	}
}
