package proxy

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
)

// ReadTokenFile reads a bearer token from path, for Options.APIToken. It
// refuses a file that every user can read (the token would protect
// nothing), an empty one, and a token with spaces or control characters,
// which a header cannot carry; one trailing newline is dropped.
func ReadTokenFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("token file %s: no such file", path)
		}
		return nil, fmt.Errorf("token file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("token file %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o004 != 0 {
		return nil, fmt.Errorf("token file %s: readable by every user (mode %04o): chmod o-r %s, or better chmod 600", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	token := bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r"))
	if len(token) == 0 {
		return nil, fmt.Errorf("token file %s: empty (write a long random token in it, such as the output of: openssl rand -hex 32)", path)
	}
	if i := bytes.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return nil, fmt.Errorf("token file %s: byte %d is a space or control character; a bearer token is one line of printable characters", path, i+1)
	}
	return token, nil
}

// requireToken answers 401 to requests without "Authorization: Bearer
// TOKEN". The comparison takes the same time wherever the tokens differ.
func requireToken(token []byte, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="spof proxy"`)
			msg := "missing bearer token: this API needs \"Authorization: Bearer TOKEN\" with the token of spof proxy --token-file"
			if scheme != "" {
				msg = "wrong bearer token: this API needs \"Authorization: Bearer TOKEN\" with the token of spof proxy --token-file"
			}
			writeError(w, &Error{msg, http.StatusUnauthorized})
			return
		}
		h.ServeHTTP(w, r)
	})
}
