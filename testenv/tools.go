package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"k8s.io/component-base/cli"
	kubectl "k8s.io/kubectl/pkg/cmd"
)

// runKubectl is kubectl itself (k8s.io/kubectl at the release pinned in go.mod), for measuring
// shopctl side by side with it against the same server.
func runKubectl(args []string) error {
	cmd := kubectl.NewDefaultKubectlCommand()
	cmd.SetArgs(args)
	if code := cli.Run(cmd); code != 0 {
		os.Exit(code)
	}
	return nil
}

// measure runs a command and prints, on stderr, its wall time and peak resident memory:
//
//	measure: wall=1.234s maxrss=56789KiB exit=0
func measure(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("measure needs a command")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			return err
		}
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	fmt.Fprintf(os.Stderr, "measure: wall=%.3fs maxrss=%dKiB exit=%d\n", wall.Seconds(), rss, code)
	return nil
}
