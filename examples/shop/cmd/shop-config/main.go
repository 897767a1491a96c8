// Command shop-config is the demo shop's configuration service; its code is
// in internal/configapp.
package main

import "github.com/spofhq/spof/examples/shop/internal/configapp"

func main() { configapp.Main() }
