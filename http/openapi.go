package http

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/guarantor/guarantor"
)

//go:embed openapi.json
var openapiBase []byte

// OpenAPI is the OpenAPI 3.1 description of the API: openapi.json,
// maintained by hand beside the handlers, with the limits' responses
// added from Routes (withLimits). A test checks that it validates and
// names every route in Routes.
var OpenAPI = withLimits(openapiBase, Routes)

func handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(OpenAPI)
}

// withLimits returns the document doc with, for each of routes, a 413
// response if it takes a body (MaxBody not 0) and a 429 response with
// Retry-After if it is WriteLimited. Routes missing from doc are left
// to the test that checks every route is described.
func withLimits(doc []byte, routes []Route) []byte {
	var d map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		panic("http: openapi.json: " + err.Error())
	}
	responses := object(object(d, "components"), "responses")
	responses["TooLarge"] = problemResponse("The body is over the route's limit; nothing changed.", guarantor.ETooLarge, nil)
	responses["RateLimited"] = problemResponse("Too many writes from this client address; nothing changed.", guarantor.ERateLimited, map[string]any{
		"Retry-After": map[string]any{
			"description": "Seconds until this address may write again.",
			"schema":      map[string]any{"type": "integer", "minimum": 1},
		},
	})
	paths := object(d, "paths")
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		item, _ := paths[path].(map[string]any)
		op, ok := item[strings.ToLower(method)].(map[string]any)
		if !ok {
			continue
		}
		if rt.MaxBody != 0 {
			object(op, "responses")["413"] = map[string]any{"$ref": "#/components/responses/TooLarge"}
		}
		if rt.WriteLimited {
			object(op, "responses")["429"] = map[string]any{"$ref": "#/components/responses/RateLimited"}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		panic("http: openapi.json: " + err.Error())
	}
	return b.Bytes()
}

// object returns m[key] as a JSON object, adding an empty one if absent.
func object(m map[string]any, key string) map[string]any {
	o, ok := m[key].(map[string]any)
	if !ok {
		o = map[string]any{}
		m[key] = o
	}
	return o
}

// problemResponse is an OpenAPI response of problem details whose code
// is code, with the given headers.
func problemResponse(description, code string, headers map[string]any) map[string]any {
	r := map[string]any{
		"description": description + " Problem details with code " + code + ".",
		"content": map[string]any{
			"application/problem+json": map[string]any{
				"schema": map[string]any{"allOf": []any{
					map[string]any{"$ref": "#/components/schemas/Problem"},
					map[string]any{"properties": map[string]any{"code": map[string]any{"const": code}}},
				}},
			},
		},
	}
	if headers != nil {
		r["headers"] = headers
	}
	return r
}
