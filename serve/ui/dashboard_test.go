package ui_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/spofhq/spof/internal/browsertest"
	"github.com/spofhq/spof/serve"
	"github.com/spofhq/spof/store"
)

// TestDashboardSeedAudit is the browser test, end to end: spof
// serve (the real server, over SQLite) with examples/seed-audit; the
// browser opens the dashboard, follows the links to the graph, clicks the
// session Redis node and sees its blast radius; a screenshot is saved.
func TestDashboardSeedAudit(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "spof.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := serve.New(serve.Config{Models: []string{"../../examples/seed-audit/spof.yaml"}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	ctx := browsertest.New(t)
	consoleErrors := browsertest.Console(t, ctx)
	run(t, ctx, "loading the dashboard", chromedp.Navigate(ts.URL+"/"))
	run(t, ctx, "following the system's link", chromedp.Click(chromedp.CSS(`main a[href="/systems/shop"]`)))
	run(t, ctx, "waiting for the system's page", chromedp.WaitVisible(chromedp.CSS(`#checklist`)))
	run(t, ctx, "following the graph's link", chromedp.Click(chromedp.CSS(`nav a[href="/systems/shop/graph"]`)))
	run(t, ctx, "waiting for the graph's page", chromedp.WaitVisible(chromedp.CSS(`#details`)))
	run(t, ctx, "waiting for the graph", chromedp.Poll[chromedp.Void](
		`document.getElementById('graph') && document.getElementById('graph').getAttribute('data-ready') === 'true'`,
		chromedp.WithPollingTimeout(stepTimeout)))

	clickComponent(t, ctx, "session-redis")
	d := readDetails(t, ctx)
	for _, flow := range []string{"checkout", "login", "submit"} {
		if !slices.Contains(d.Down, flow) {
			t.Errorf("the details' flows down %q lack %s", d.Down, flow)
		}
	}
	for _, c := range []string{"session-redis", "app"} {
		if !slices.Contains(d.Components, c) || !slices.Contains(d.Highlighted, c) {
			t.Errorf("%s: not in the blast radius shown (%q) or highlighted (%q)", c, d.Components, d.Highlighted)
		}
	}
	if !slices.Contains(d.Events, "component:session-redis") {
		t.Errorf("the findings shown: %q", d.Events)
	}
	png := run(t, ctx, "taking a screenshot", chromedp.CaptureScreenshot())
	saveScreenshot(t, "dashboard-seed-audit.png", png)
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("errors in the page's console (the server's CSP included):\n%s", errs)
	}
}
