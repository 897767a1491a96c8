package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

// relayArg is the first argument that makes the benchmark binary run as
// the bare relay, in a child process like the other proxies, so that no
// target shares the client's Go runtime. The parent passes the listening
// socket as file descriptor 3 and the upstream address as the next
// argument.
const relayArg = "-relay-child"

// runRelay is the bare relay: for each connection, dial upstream and copy
// both ways with io.Copy between two *net.TCPConn, which Linux turns into
// splice(2). It is about the fastest a TCP proxy written in Go can be.
func runRelay(upstream string) error {
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	for {
		client, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("relay: %w", err)
		}
		go func() {
			defer client.Close()
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{})
			go func() {
				io.Copy(up, client)
				up.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			io.Copy(client, up)
			client.(*net.TCPConn).CloseWrite()
			<-done
		}()
	}
}
