package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

// serve runs one cluster: an embedded etcd, then a kube-apiserver on it, until killed.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	name := fs.String("name", "", "the cluster's name")
	dir := fs.String("dir", "", "the cluster's data directory")
	pki := fs.String("pki", "", "the directory of certificates, keys and tokens")
	port := fs.Int("port", 0, "the API server's port on 127.0.0.1")
	etcdClient := fs.Int("etcd-client-port", 0, "etcd's client port on 127.0.0.1")
	etcdPeer := fs.Int("etcd-peer-port", 0, "etcd's peer port on 127.0.0.1")
	watchCache := fs.Bool("watch-cache", true, "the API server's watch cache")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *dir == "" || *pki == "" || *port == 0 || *etcdClient == 0 || *etcdPeer == 0 {
		return fmt.Errorf("serve needs --name, --dir, --pki, --port, --etcd-client-port and --etcd-peer-port")
	}

	etcdURL, err := startEtcd(*name, filepath.Join(*dir, "etcd"), *etcdClient, *etcdPeer)
	if err != nil {
		return fmt.Errorf("etcd of %s: %w", *name, err)
	}

	p := func(f string) string { return filepath.Join(*pki, f) }
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs([]string{
		"--etcd-servers=" + etcdURL,
		"--etcd-prefix=/registry",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(*port),
		"--cert-dir=" + filepath.Join(*dir, "certs"),
		"--tls-cert-file=" + p("serving.crt"),
		"--tls-private-key-file=" + p("serving.key"),
		"--client-ca-file=" + p("ca.crt"),
		"--token-auth-file=" + p("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + p("sa.pub"),
		"--service-account-signing-key-file=" + p("sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=true",
		"--watch-cache=" + strconv.FormatBool(*watchCache),
		// The tests compact etcd themselves when they want a 410.
		"--etcd-compaction-interval=0",
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=0",
	})
	return cmd.Execute()
}

// startEtcd starts an etcd in this process and returns its client URL once it serves.
func startEtcd(name, dir string, clientPort, peerPort int) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	cfg := embed.NewConfig()
	cfg.Name = name
	cfg.Dir = dir
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{filepath.Join(dir, "..", "etcd.log")}
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// A test server: nothing to gain from syncing every write to disk.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return "", fmt.Errorf("not ready after 60 s")
	}
	go func() {
		err := <-e.Err()
		if err != nil {
			fmt.Fprintf(os.Stderr, "etcd of %s: %v\n", name, err)
			os.Exit(1)
		}
	}()
	return client.String(), nil
}
