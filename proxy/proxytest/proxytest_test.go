package proxytest

import (
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestFakeClock(t *testing.T) {
	c := NewFakeClock()
	if !c.Now().Equal(Start) {
		t.Fatalf("Now = %v, want %v", c.Now(), Start)
	}
	var fired []string
	c.AfterFunc(2*time.Second, func() { fired = append(fired, "2s") })
	c.AfterFunc(time.Second, func() { fired = append(fired, "1s") })
	stop := c.AfterFunc(time.Second, func() { fired = append(fired, "stopped") })
	if !stop() || stop() {
		t.Error("stop: want true the first time, false after")
	}
	if n := c.Pending(); n != 2 {
		t.Errorf("Pending = %d, want 2", n)
	}
	c.Advance(time.Second - time.Nanosecond)
	if len(fired) != 0 {
		t.Errorf("fired %v before their time", fired)
	}
	c.Advance(time.Hour)
	if want := []string{"1s", "2s"}; !slices.Equal(fired, want) {
		t.Errorf("fired %v, want %v", fired, want)
	}
	if got, want := c.Now(), Start.Add(time.Second-time.Nanosecond+time.Hour); !got.Equal(want) {
		t.Errorf("Now = %v, want %v", got, want)
	}
	if n := c.Pending(); n != 0 {
		t.Errorf("Pending = %d after every timer fired, want 0", n)
	}
}

// Close ends the connections still open and waits for their handlers.
func TestServerClose(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, err := NewServer(Echo)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "ping")
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	s.Close()
	if n, err := c.Read(got); n != 0 || err == nil {
		t.Errorf("after Close: read %d bytes, %v; want the connection closed", n, err)
	}
}
