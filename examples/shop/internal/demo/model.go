package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spofhq/spof/internal/atomicfile"
)

// The addresses examples/shop/spof.yaml names: those of a fixed-port run.
const (
	modelProxyAPI = "http://127.0.0.1:8474"
	modelShopURL  = "http://127.0.0.1:8080"
)

// WriteModel writes the model at src (examples/shop/spof.yaml) to dst,
// pointed at this running system: its proxy API, each proxy's listen and
// upstream addresses (spof chaos checks them against the running proxies)
// and the shop's probe URLs.
func (s *System) WriteModel(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	text := string(data)
	if !strings.Contains(text, modelProxyAPI) || !strings.Contains(text, modelShopURL) {
		return fmt.Errorf("%s does not name both %s and %s: not the demo shop's model", src, modelProxyAPI, modelShopURL)
	}
	text = strings.ReplaceAll(text, modelProxyAPI, s.ProxyAPI)
	text = strings.ReplaceAll(text, modelShopURL, s.ShopURL)
	for name, p := range s.Proxies {
		binding := regexp.MustCompile(`(proxy: \{name: ` + regexp.QuoteMeta(name) + `, listen: ")[^"]*(", upstream: ")[^"]*(")`)
		if !binding.MatchString(text) {
			return fmt.Errorf("%s has no proxy binding named %s (want proxy: {name: %s, listen: \"...\", upstream: \"...\"})", src, name, name)
		}
		text = binding.ReplaceAllString(text, "${1}"+p.Listen+"${2}"+p.Upstream+"${3}")
	}
	header := fmt.Sprintf("# Written by shop-demo from %s, with this run's addresses; rewritten at\n# every start.\n", src)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(dst, []byte(header+text), 0o644)
}
