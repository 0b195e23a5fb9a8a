package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// One cluster: a child process serving an API server with its etcd.
type cluster struct {
	Name       string `json:"name"`
	Server     string `json:"server"`
	Etcd       string `json:"etcd"`
	Log        string `json:"log"`
	port       int
	etcdClient int
	etcdPeer   int
	dir        string
	watchCache bool

	mu  sync.Mutex
	cmd *exec.Cmd
}

type env struct {
	Kubeconfig string              `json:"kubeconfig"`
	Control    string              `json:"control"`
	CA         string              `json:"ca"`
	Clusters   []*cluster          `json:"clusters"`
	Tokens     map[string]string   `json:"tokens"`
	Contexts   map[string][]string `json:"contexts"`
}

var (
	self       string
	pkiDir     string
	watchCache bool
	caPool     *x509.CertPool
	adminToken string
)

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := fs.String("dir", "", "a directory for certificates, data, logs and the kubeconfig")
	names := fs.String("clusters", "control,a,b", "the clusters, comma-separated; the first is the current context")
	fs.BoolVar(&watchCache, "watch-cache", true, "the API servers' watch cache")
	remove := fs.Bool("remove", false, "remove --dir when done")
	noCache := fs.String("no-watch-cache", "", "clusters, comma-separated, whose API server runs without a watch cache (so a watch from a compacted resourceVersion is answered by etcd: 410 Gone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("up needs --dir")
	}
	var err error
	if self, err = os.Executable(); err != nil {
		return err
	}
	if *dir, err = filepath.Abs(*dir); err != nil {
		return err
	}
	if *remove {
		defer os.RemoveAll(*dir)
	}
	pkiDir = filepath.Join(*dir, "pki")
	caPEM, err := makePKI(pkiDir)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	caPool = x509.NewCertPool()
	caPool.AppendCertsFromPEM(caPEM)
	for _, u := range users {
		if u.Name == "admin" {
			adminToken = u.Token
		}
	}

	var clusters []*cluster
	for _, name := range strings.Split(*names, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		ports, err := freePorts(3)
		if err != nil {
			return err
		}
		c := &cluster{Name: name, port: ports[0], etcdClient: ports[1], etcdPeer: ports[2], dir: filepath.Join(*dir, name), watchCache: watchCache}
		for _, n := range strings.Split(*noCache, ",") {
			if strings.TrimSpace(n) == name {
				c.watchCache = false
			}
		}
		c.Server = fmt.Sprintf("https://127.0.0.1:%d", c.port)
		c.Etcd = fmt.Sprintf("http://127.0.0.1:%d", c.etcdClient)
		c.Log = filepath.Join(c.dir, "apiserver.log")
		clusters = append(clusters, c)
	}
	if len(clusters) == 0 {
		return errors.New("no clusters named")
	}
	defer func() {
		for _, c := range clusters {
			c.stop()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	errs := make(chan error, len(clusters))
	for _, c := range clusters {
		go func(c *cluster) { errs <- c.start(ctx) }(c)
	}
	for range clusters {
		if err := <-errs; err != nil {
			return err
		}
	}

	kubeconfig := filepath.Join(*dir, "kubeconfig")
	e := env{Kubeconfig: kubeconfig, CA: filepath.Join(pkiDir, "ca.crt"), Clusters: clusters,
		Tokens: map[string]string{}, Contexts: map[string][]string{}}
	if err := writeKubeconfig(kubeconfig, clusters, caPEM, &e); err != nil {
		return err
	}

	control, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.Control = control.Addr().String()
	go serveControl(control, clusters)

	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "env.json"), data, 0o600); err != nil {
		return err
	}
	fmt.Printf("ready %s\n", kubeconfig)

	// Serve until standard input closes (the test process ended) or a signal comes.
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		done <- struct{}{}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() { <-sig; done <- struct{}{} }()
	<-done
	return nil
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// start runs the cluster's process and waits until its API server is ready and its roles exist.
func (c *cluster) start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	log, err := os.OpenFile(c.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(self, "serve", "--name", c.Name, "--dir", c.dir, "--pki", pkiDir,
		"--port", strconv.Itoa(c.port), "--etcd-client-port", strconv.Itoa(c.etcdClient),
		"--etcd-peer-port", strconv.Itoa(c.etcdPeer), "--watch-cache="+strconv.FormatBool(c.watchCache))
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	c.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool}}}
	for {
		select {
		case err := <-exited:
			c.cmd = nil
			return fmt.Errorf("cluster %s: the API server exited (%v); its log: %s", c.Name, err, c.Log)
		case <-ctx.Done():
			return fmt.Errorf("cluster %s: not ready in time; its log: %s", c.Name, c.Log)
		case <-time.After(200 * time.Millisecond):
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", c.Server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
	}
	go func() {
		// Reap the process whenever it ends; stop() waits on this.
		<-exited
	}()
	cs, err := kubernetes.NewForConfig(c.restConfig())
	if err != nil {
		return err
	}
	if err := grantRoles(ctx, cs); err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	return nil
}

func (c *cluster) restConfig() *rest.Config {
	caPEM, _ := os.ReadFile(filepath.Join(pkiDir, "ca.crt"))
	return &rest.Config{Host: c.Server, BearerToken: adminToken, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}}
}

// stop kills the cluster's process group at once, the way a crashed node would go.
func (c *cluster) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	// Wait until the ports are free again.
	for range 100 {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.port), 100*time.Millisecond)
		if err != nil {
			break
		}
		conn.Close()
		time.Sleep(50 * time.Millisecond)
	}
	c.cmd = nil
}

// compact compacts the cluster's etcd at its current revision, so older resourceVersions are
// gone and a watch from one of them ends in 410 Gone.
func (c *cluster) compact(ctx context.Context) (int64, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.Etcd}, DialTimeout: 5 * time.Second})
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	resp, err := cli.Get(ctx, "compact-revision-probe")
	if err != nil {
		return 0, err
	}
	rev := resp.Header.Revision
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		return 0, err
	}
	return rev, nil
}

func serveControl(l net.Listener, clusters []*cluster) {
	byName := map[string]*cluster{}
	for _, c := range clusters {
		byName[c.Name] = c
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /clusters/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		c, ok := byName[r.PathValue("name")]
		if !ok {
			http.Error(w, "no such cluster", http.StatusNotFound)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		switch r.PathValue("action") {
		case "stop":
			c.stop()
			fmt.Fprintln(w, "stopped")
		case "start":
			if err := c.start(ctx); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "started")
		case "compact":
			rev, err := c.compact(ctx)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, rev)
		default:
			http.Error(w, "actions: stop, start, compact", http.StatusNotFound)
		}
	})
	_ = http.Serve(l, mux)
}

func writeKubeconfig(path string, clusters []*cluster, caPEM []byte, e *env) error {
	cfg := clientcmdapi.NewConfig()
	for _, u := range users {
		cfg.AuthInfos[u.Name] = &clientcmdapi.AuthInfo{Token: u.Token}
		e.Tokens[u.Name] = u.Token
	}
	for _, c := range clusters {
		cfg.Clusters[c.Name] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: caPEM}
		// The admin's context carries the cluster's bare name; every other user's is user@cluster.
		for _, u := range users {
			ctxName := c.Name
			if u.Name != "admin" {
				ctxName = u.Name + "@" + c.Name
			}
			cfg.Contexts[ctxName] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: u.Name}
			e.Contexts[c.Name] = append(e.Contexts[c.Name], ctxName)
		}
	}
	cfg.CurrentContext = clusters[0].Name
	return clientcmd.WriteToFile(*cfg, path)
}
