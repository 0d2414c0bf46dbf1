package http_test

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	ghttp "github.com/guarantor/guarantor/http"
)

// TestOpenAPIDescribesEveryRoute validates the document and checks that
// each route of the authorisation table is in it with its method.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(ghttp.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json does not validate: %v", err)
	}
	for _, r := range ghttp.Routes {
		method, path, _ := strings.Cut(r.Pattern, " ")
		found := false
		for p, item := range doc.Paths.Map() {
			if (p == path || strings.HasSuffix(path, "/") && strings.HasPrefix(p, path)) && item.GetOperation(method) != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("route %s is not in openapi.json", r.Pattern)
		}
	}
}
