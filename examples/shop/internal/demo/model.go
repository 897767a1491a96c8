package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spofhq/spof/internal/atomicfile"
)

// The addresses examples/shop/spof.yaml names: those of a fixed-port run.
const (
	modelProxyAPI = "http://127.0.0.1:8474"
	modelShopURL  = "http://127.0.0.1:8080"
)

// WriteModel writes the model at src (examples/shop/spof.yaml) to dst,
// pointed at this running system: its proxy API and the shop's probe
// URLs. The proxies are named in the model, so their addresses do not
// matter to spof chaos.
func (s *System) WriteModel(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	text := string(data)
	if !strings.Contains(text, modelProxyAPI) || !strings.Contains(text, modelShopURL) {
		return fmt.Errorf("%s names neither %s nor %s: not the demo shop's model", src, modelProxyAPI, modelShopURL)
	}
	text = strings.ReplaceAll(text, modelProxyAPI, s.ProxyAPI)
	text = strings.ReplaceAll(text, modelShopURL, s.ShopURL)
	header := fmt.Sprintf("# Written by shop-demo from %s, with this run's addresses; rewritten at\n# every start.\n", src)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(dst, []byte(header+text), 0o644)
}
