// Command shop-payments is the demo shop's (fake) payment API; its code is
// in internal/paymentsapp.
package main

import "github.com/spofhq/spof/examples/shop/internal/paymentsapp"

func main() { paymentsapp.Main() }
