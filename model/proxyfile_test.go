package model

import (
	"errors"
	"strings"
	"testing"
)

func TestParseProxies(t *testing.T) {
	for _, tc := range []struct {
		name, file, data string
		want             []ProxyEntry // compared on Name, Listen, Upstream, Enabled
		errs             []string     // the errors, without the file name
	}{
		{name: "empty", file: "p.yaml", data: ""},
		{name: "null", file: "p.yaml", data: "~\n"},
		{name: "yaml", file: "p.yaml", data: `
- name: redis
  listen: 127.0.0.1:26379
  upstream: 127.0.0.1:6379
- name: pg
  listen: ":0"
  upstream: db.internal:5432
  enabled: false
- name: any
  listen: ""
  upstream: "[::1]:1"
  enabled: True
`, want: []ProxyEntry{
			{Name: "redis", Listen: "127.0.0.1:26379", Upstream: "127.0.0.1:6379", Enabled: true},
			{Name: "pg", Listen: ":0", Upstream: "db.internal:5432"},
			{Name: "any", Upstream: "[::1]:1", Enabled: true},
		}},
		{name: "json", file: "p.JSON", data: `[{"name": "a", "upstream": "h:1", "enabled": true}]`,
			want: []ProxyEntry{{Name: "a", Upstream: "h:1", Enabled: true}}},
		{name: "aliases and merge keys", file: "p.yaml", data: `
- &base {name: a, upstream: "h:1"}
- <<: *base
  name: b
`, want: []ProxyEntry{{Name: "a", Upstream: "h:1", Enabled: true}, {Name: "b", Upstream: "h:1", Enabled: true}}},
		{name: "trailing comma in JSON", file: "p.json", data: "[\n {\"name\": \"a\", \"upstream\": \"h:1\",}\n]",
			errs: []string{`2:34: invalid JSON: invalid character '}' looking for beginning of object key string`}},
		{name: "not a list", file: "p.yaml", data: "name: a\n",
			errs: []string{`1:1: want a list of proxies, each with name, listen, upstream and enabled (Toxiproxy's format), got a mapping (write "- name: redis" for each proxy)`}},
		{name: "entry not a mapping", file: "p.yaml", data: "- a\n",
			errs: []string{`1:3: [0]: want a mapping, got string "a"`}},
		{name: "bad values", file: "p.yaml", data: `
- name: a
  upstream: h:0
  enabled: !!bool yes
- name: ""
  upstream: h:1
  listen: h
- name: [x]
  upstream: {}
`, errs: []string{
			`3:13: a.upstream: invalid port "0" in "h:0" (a port is a number from 1 to 65535)`,
			`4:12: a.enabled: want true or false, got boolean yes`,
			`5:9: [1].name: must not be empty`,
			`7:11: [1].listen: invalid address "h" (write host:port, e.g. "127.0.0.1:6379" or "[::1]:6379")`,
			`8:9: [2].name: want a string, got a list`,
			`9:13: [2].upstream: want a host:port string, got a mapping`,
		}},
		{name: "duplicate key", file: "p.yaml", data: "- name: a\n  name: b\n  upstream: h:1\n",
			errs: []string{`2:3: a.name: duplicate key (first defined at line 1)`}},
		{name: "two documents", file: "p.yaml", data: "- name: a\n---\n- name: b\n",
			errs: []string{`2:1: multiple documents (want one YAML document: remove the "---" and what follows)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProxies(tc.file, []byte(tc.data))
			if tc.errs != nil {
				var list ErrorList
				if !errors.As(err, &list) || got != nil {
					t.Fatalf("got %v, %v; want errors", got, err)
				}
				var msgs []string
				for _, e := range list {
					msgs = append(msgs, strings.TrimPrefix(e.Error(), tc.file+":"))
				}
				if strings.Join(msgs, "\n") != strings.Join(tc.errs, "\n") {
					t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(tc.errs, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d proxies, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Name != w.Name || g.Listen != w.Listen || g.Upstream != w.Upstream || g.Enabled != w.Enabled {
					t.Errorf("proxy %d: got %+v, want %+v", i, g, w)
				}
				if g.Pos.File != tc.file || g.Pos.Line == 0 || g.UpstreamPos.Line == 0 {
					t.Errorf("proxy %d: positions missing: %+v", i, g)
				}
			}
		})
	}
}

// FuzzParseProxies checks that ParseProxies never panics, and returns
// either proxies or positioned errors.
func FuzzParseProxies(f *testing.F) {
	f.Add([]byte("- name: a\n  upstream: h:1\n  listen: :0\n  enabled: false\n"))
	f.Add([]byte("- &a {name: a, upstream: 'h:1'}\n- <<: *a\n  name: b\n"))
	f.Add([]byte("[{\"name\": \"a\", \"upstream\": \"h:1\", \"toxics\": []}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseProxies("f.yaml", data)
		if err == nil {
			for _, p := range got {
				if p.Name == "" || p.Upstream == "" {
					t.Fatalf("accepted %+v", p)
				}
			}
			return
		}
		var list ErrorList
		if got != nil || !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("got %v, %#v", got, err)
		}
		for _, e := range list {
			if e.Pos.File != "f.yaml" || e.Msg == "" {
				t.Fatalf("bad error %#v", e)
			}
		}
	})
}
