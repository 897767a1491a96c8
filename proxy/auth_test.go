package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With a token, every request needs it: without it or with another one,
// the answer is 401 with a WWW-Authenticate header, and nothing changes.
func TestAPIToken(t *testing.T) {
	s := newServer(t, Options{APIToken: []byte("s3cret-token")})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	hc := hs.Client()
	t.Cleanup(hc.CloseIdleConnections)
	upstream := startEcho(t)

	do := func(method, path, auth, body string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data), resp.Header
	}
	create := `{"name": "p", "listen": "127.0.0.1:0", "upstream": "` + upstream + `"}`
	for _, tc := range []struct {
		name, auth, wantMsg string
	}{
		{"none", "", "missing bearer token"},
		{"wrong", "Bearer s3cret-tokeN", "wrong bearer token"},
		{"prefix", "Bearer s3cret", "wrong bearer token"},
		{"longer", "Bearer s3cret-token2", "wrong bearer token"},
		{"basic", "Basic czNjcmV0LXRva2Vu", "wrong bearer token"},
	} {
		for _, req := range [][2]string{{"GET", "/version"}, {"POST", "/proxies"}, {"POST", "/reset"}, {"GET", "/metrics"}, {"GET", "/nowhere"}} {
			status, body, h := do(req[0], req[1], tc.auth, create)
			var e Error
			if status != http.StatusUnauthorized || json.Unmarshal([]byte(body), &e) != nil || !strings.HasPrefix(e.Message, tc.wantMsg) || e.Status != 401 {
				t.Errorf("%s: %s %s: %d %s; want 401 %q", tc.name, req[0], req[1], status, body, tc.wantMsg)
			}
			if got := h.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
				t.Errorf("%s: %s %s: WWW-Authenticate %q, want Bearer", tc.name, req[0], req[1], got)
			}
		}
	}
	if ps := s.Proxies(); len(ps) != 0 {
		t.Fatalf("requests without the token created %v", ps)
	}
	if status, body, _ := do("POST", "/proxies", "Bearer s3cret-token", create); status != http.StatusCreated {
		t.Fatalf("with the token: %d %s", status, body)
	}
	if status, body, _ := do("GET", "/proxies/p", "bearer s3cret-token", ""); status != http.StatusOK {
		t.Fatalf("with the token, scheme in lower case: %d %s", status, body)
	}
}

// Without a token, the API takes requests without Authorization, as
// Toxiproxy does (and ignores one that is sent).
func TestAPINoToken(t *testing.T) {
	s := newServer(t, Options{})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	for _, auth := range []string{"", "Bearer whatever"} {
		req, _ := http.NewRequest("GET", hs.URL+"/proxies", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("Authorization %q: %s", auth, resp.Status)
		}
	}
	hs.Client().CloseIdleConnections()
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, data string
		perm       os.FileMode
		want       string // the token, or the end of the error
	}{
		{"plain", "abc123", 0o600, "abc123"},
		{"newline", "abc123\n", 0o600, "abc123"},
		{"crlf", "abc123\r\n", 0o640, "abc123"},
		{"world", "abc123\n", 0o644, "readable by every user (mode 0644): chmod o-r " + filepath.Join(dir, "world") + ", or better chmod 600"},
		{"empty", "", 0o600, "empty (write a long random token in it, such as the output of: openssl rand -hex 32)"},
		{"newline-only", "\n", 0o600, "empty (write a long random token in it, such as the output of: openssl rand -hex 32)"},
		{"two-lines", "abc\n123\n", 0o600, "byte 4 is a space or control character; a bearer token is one line of printable characters"},
		{"space", "abc 123", 0o600, "byte 4 is a space or control character; a bearer token is one line of printable characters"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.data), tc.perm); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, tc.perm) // past the umask
		got, err := ReadTokenFile(path)
		switch {
		case err != nil && err.Error() != "token file "+path+": "+tc.want:
			t.Errorf("%s: error %q, want %q", tc.name, err, tc.want)
		case err == nil && string(got) != tc.want:
			t.Errorf("%s: token %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := ReadTokenFile(filepath.Join(dir, "missing")); err == nil || err.Error() != "token file "+filepath.Join(dir, "missing")+": no such file" {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadTokenFile(dir); err == nil || !strings.HasSuffix(err.Error(), ": not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}
