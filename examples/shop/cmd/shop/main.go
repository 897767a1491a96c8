// Command shop is the demo web shop that spof's chaos experiments run
// against (examples/shop/README.md); its code is in internal/shopapp.
package main

import "github.com/spofhq/spof/examples/shop/internal/shopapp"

func main() { shopapp.Main() }
