package compat

import (
	"os"
	"testing"

	"github.com/rs/zerolog"
)

// TestMain silences Toxiproxy's toxics, which log through zerolog's
// global logger whatever logger their server was given.
func TestMain(m *testing.M) {
	zerolog.SetGlobalLevel(zerolog.Disabled)
	os.Exit(m.Run())
}
