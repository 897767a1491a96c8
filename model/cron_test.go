package model

import (
	"strings"
	"testing"
)

func TestParseCron(t *testing.T) {
	for expr, want := range map[string]string{
		"0 3 * * 1-5":                  "",
		"@daily":                       "",
		"@every 2h":                    "",
		"@every 30s":                   "more often than once a minute",
		"0 3 31 2 *":                   "never fires",
		"CRON_TZ=Europe/Paris 0 3 * *": "in UTC",
		"TZ=UTC @daily":                "in UTC",
		"":                             "empty",
		"* * * * * *":                  "5 fields",
	} {
		_, err := ParseCron(expr)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseCron(%q) = %v, want %q", expr, err, want)
		}
	}
}

// FuzzParseCron: no expression makes the parser panic or hang.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 3 * * 1-5", "@every 1h", "*/5 1-2,4 * JAN-MAR MON", "@every 9999999h", "0 0 29 2 *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		ParseCron(expr)
	})
}
