package http_test

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	ghttp "github.com/guarantor/guarantor/http"
)

// TestOpenAPIDescribesEveryRoute validates the document and checks that
// each route of the authorisation table is in it with its method, that
// each route taking a body (MaxBody) has a 413 too_large response and
// each write-limited route a 429 rate_limited one with Retry-After.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(ghttp.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json does not validate: %v", err)
	}
	limited := 0
	for _, r := range ghttp.Routes {
		method, path, _ := strings.Cut(r.Pattern, " ")
		var op *openapi3.Operation
		for p, item := range doc.Paths.Map() {
			if (p == path || strings.HasSuffix(path, "/") && strings.HasPrefix(p, path)) && item.GetOperation(method) != nil {
				op = item.GetOperation(method)
			}
		}
		if op == nil {
			t.Errorf("route %s is not in openapi.json", r.Pattern)
			continue
		}
		if r.MaxBody != 0 {
			checkProblemResponse(t, r.Pattern, op, 413, "too_large", "")
		}
		if r.WriteLimited {
			limited++
			checkProblemResponse(t, r.Pattern, op, 429, "rate_limited", "Retry-After")
		}
	}
	if limited == 0 {
		t.Error("no route is WriteLimited: the 429 check checked nothing")
	}
}

// checkProblemResponse checks that op answers status with problem
// details of the given code and, if header is not empty, that header.
func checkProblemResponse(t *testing.T, pattern string, op *openapi3.Operation, status int, code, header string) {
	t.Helper()
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		t.Errorf("%s: no %d response in openapi.json", pattern, status)
		return
	}
	if header != "" && resp.Value.Headers[header] == nil {
		t.Errorf("%s: the %d response has no %s header", pattern, status, header)
	}
	mt := resp.Value.Content.Get("application/problem+json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		t.Errorf("%s: the %d response is not application/problem+json", pattern, status)
		return
	}
	for _, s := range append(openapi3.SchemaRefs{mt.Schema}, mt.Schema.Value.AllOf...) {
		if c := s.Value.Properties["code"]; c != nil && c.Value.Const == code {
			return
		}
	}
	t.Errorf("%s: the %d response does not pin code %q", pattern, status, code)
}
