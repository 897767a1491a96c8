package traces

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

var regen = flag.Bool("regen", false, "regenerate the generated inputs in testdata (shop.jsonl, shop-doc.json)")

// shopTrace is one request to the shop (after the OpenTelemetry demo):
// through frontend-proxy to frontend, which calls cart, product-catalog,
// ad, currency, recommendation and checkout; checkout charges payment
// (which calls Stripe), ships, mails and publishes the order to Kafka for
// accounting and fraud-detection. i picks the failures:
//   - ad fails in 8 requests, and the frontend still answers: optional;
//   - payment fails in 6, and checkout still accepts the order: optional;
//   - currency fails in 6, and the frontend fails with it: hard;
//   - email fails in 2, which is too few to tell;
//   - product-catalog fails in 5, but a retry succeeds: no evidence.
func shopTrace(i int) *gspan {
	payFail := i%7 == 3
	curFail := i%7 == 5
	adFail := i%5 == 0 && !curFail
	mailFail := i == 11 || i == 23
	retry := i%8 == 1

	catalog := []*gspan{rpc("frontend", "product-catalog", "oteldemo.ProductCatalogService/ListProducts", false)}
	if retry {
		catalog = append([]*gspan{rpc("frontend", "product-catalog", "oteldemo.ProductCatalogService/ListProducts", true)}, catalog...)
	}
	stripe := sp("payment", "POST", ptrace.SpanKindClient).with("url.full", "https://api.stripe.com/v1/charges", "http.request.method", "POST")
	stripe.failed = payFail
	order := sp("checkout", "orders publish", ptrace.SpanKindProducer,
		sp("accounting", "orders process", ptrace.SpanKindConsumer,
			sp("accounting", "INSERT otel.order", ptrace.SpanKindClient).with("db.system", "postgresql", "db.name", "otel",
				"server.address", "postgresql", "server.port", "5432")).with("messaging.system", "kafka", "messaging.destination.name", "orders"),
		sp("fraud-detection", "orders process", ptrace.SpanKindConsumer).with("messaging.system", "kafka", "messaging.destination.name", "orders"),
	).with("messaging.system", "kafka", "messaging.destination.name", "orders", "server.address", "kafka", "server.port", "9092")

	children := []*gspan{
		rpc("frontend", "cart", "oteldemo.CartService/GetCart", false,
			sp("cart", "HGET", ptrace.SpanKindClient).with("db.system", "redis", "server.address", "valkey-cart", "server.port", "6379")),
	}
	children = append(children, catalog...)
	children = append(children,
		rpc("frontend", "ad", "oteldemo.AdService/GetAds", adFail),
		rpc("frontend", "currency", "oteldemo.CurrencyService/Convert", curFail),
		rpc("frontend", "recommendation", "oteldemo.RecommendationService/ListRecommendations", false,
			rpc("recommendation", "product-catalog", "oteldemo.ProductCatalogService/ListProducts", false)),
		rpc("frontend", "checkout", "oteldemo.CheckoutService/PlaceOrder", false,
			rpc("checkout", "cart", "oteldemo.CartService/EmptyCart", false),
			rpc("checkout", "payment", "oteldemo.PaymentService/Charge", payFail, stripe),
			rpc("checkout", "shipping", "oteldemo.ShippingService/ShipOrder", false,
				rpc("shipping", "quote", "POST /getquote", false)),
			rpc("checkout", "email", "POST /send_order_confirmation", mailFail),
			order),
	)
	frontend := rpc("frontend-proxy", "frontend", "GET /api/checkout", curFail, children...)
	root := server("frontend-proxy", "ingress", frontend).with("http.route", "/api/checkout")
	root.failed = curFail
	if i%3 == 0 {
		// The load generator's requests are traced from its side.
		root = sp("load-generator", "GET", ptrace.SpanKindClient, root).with("url.full", "http://frontend-proxy:8080/api/checkout")
		root.failed = curFail
	}
	return root
}

// writeShop writes the shop's OTLP export: 42 requests, 6 a batch, each
// batch written as the collector's file exporter does, one line per
// service's spans, in reverse (children come before their parents), then
// health checks. shop-doc.json is the first two batches as one
// pretty-printed document.
func writeShop(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	var lines bytes.Buffer
	var m ptrace.JSONMarshaler
	var doc ptrace.Traces
	for b := 0; b < 7; b++ {
		var batch []*gspan
		for i := b * 6; i < b*6+6; i++ {
			batch = append(batch, shopTrace(i))
		}
		td := otlpBatch(rng, batch)
		if b == 0 {
			doc = ptrace.NewTraces()
		}
		if b < 2 {
			td.ResourceSpans().CopyTo(doc.ResourceSpans())
		}
		rss := td.ResourceSpans()
		for k := rss.Len() - 1; k >= 0; k-- {
			one := ptrace.NewTraces()
			rss.At(k).CopyTo(one.ResourceSpans().AppendEmpty())
			line, err := m.MarshalTraces(one)
			if err != nil {
				t.Fatal(err)
			}
			lines.Write(line)
			lines.WriteByte('\n')
		}
	}
	var health []*gspan
	for range 3 {
		health = append(health, server("cart", "grpc.health.v1.Health/Check").with("rpc.service", "grpc.health.v1.Health"))
	}
	line, err := m.MarshalTraces(otlpBatch(rng, health))
	if err != nil {
		t.Fatal(err)
	}
	lines.Write(line)
	lines.WriteByte('\n')
	if err := os.WriteFile(filepath.Join("testdata", "shop.jsonl"), lines.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := m.MarshalTraces(doc)
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	if err := os.WriteFile(filepath.Join("testdata", "shop-doc.json"), pretty.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
