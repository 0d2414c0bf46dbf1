package entry

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/guarantor/guarantor"
	"github.com/santhosh-tekuri/jsonschema/v6"
	jskind "github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Kind names what an entry is; it is the suffix of the first line.
type Kind string

// The kinds this version accepts. Others named in DESIGN.md are added as
// their issues land; the meaning of a kind never changes once logged.
const (
	KindKey         Kind = "key"
	KindRevocation  Kind = "revocation"
	KindObservation Kind = "observation"
	KindTestimony   Kind = "testimony"
)

//go:embed schemas/*.json
var schemaFS embed.FS

// kinds makes a new, empty body for each accepted kind.
var kinds = map[Kind]func() any{
	KindKey: func() any { return new(KeyBody) }, KindRevocation: func() any { return new(RevocationBody) },
	KindObservation: func() any { return new(Observation) }, KindTestimony: func() any { return new(Testimony) },
	KindVerification: func() any { return new(Verification) }, KindIncident: func() any { return new(Incident) },
	KindTick: func() any { return new(Tick) }, KindAgreement: func() any { return new(Agreement) },
	KindAmendment: func() any { return new(Amendment) }, KindDetermination: func() any { return new(Determination) },
	KindObligation: func() any { return new(Obligation) }, KindResponse: func() any { return new(Response) },
	KindSanction: func() any { return new(Sanction) }, KindPledge: func() any { return new(Pledge) },
	KindDeployment: func() any { return new(Deployment) }, KindCoverage: func() any { return new(Coverage) },
	KindExchangeList: func() any { return new(ExchangeList) }, KindExchangeManifest: func() any { return new(ExchangeManifest) },
	KindExchangeConfirmation: func() any { return new(ExchangeConfirmation) },
	KindPatrolPlan:           func() any { return new(PatrolPlan) }, KindPatrolReport: func() any { return new(PatrolReport) },
}

// checker is a body with rules its JSON Schema cannot express.
type checker interface{ check() error }

var printer = message.NewPrinter(language.English)

var kindName = regexp.MustCompile(`^[a-z][a-z-]{0,31}$`)

func validKindName(s string) bool { return kindName.MatchString(s) }

// KindNames lists the accepted kinds, sorted.
func KindNames() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}

// Schema returns the JSON Schema (draft 2020-12) document for a kind's body.
func Schema(kind Kind) ([]byte, bool) {
	if kinds[kind] == nil {
		return nil, false
	}
	b, err := schemaFS.ReadFile("schemas/" + string(kind) + ".json")
	return b, err == nil
}

// schemaBase is where every schema's $id lives; one schema may refer to
// another by its file name (an amendment embeds an agreement).
const schemaBase = "https://guarantor.invalid/schemas/"

var compiled = sync.OnceValues(func() (map[Kind]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for k := range kinds {
		raw, _ := Schema(k)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", k, err)
		}
		if err := c.AddResource(schemaBase+string(k)+".json", doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", k, err)
		}
	}
	out := make(map[Kind]*jsonschema.Schema, len(kinds))
	for k := range kinds {
		s, err := c.Compile(schemaBase + string(k) + ".json")
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
})

// Validate checks the body against its kind's JSON Schema and then against
// the rules a schema cannot express. The error names the offending field
// as a JSON pointer. On success it returns the decoded body: *KeyBody,
// *RevocationBody or *Observation.
func (e *Entry) Validate() (any, error) {
	schemas, err := compiled()
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(e.Body))
	if err != nil {
		return nil, guarantor.Errorf(guarantor.EInvalid, "body", "body is not valid JSON: %v", err)
	}
	if err := schemas[e.Kind].Validate(doc); err != nil {
		return nil, schemaError(e.Kind, err)
	}
	b, err := e.DecodeValidated()
	if err != nil {
		return nil, err
	}
	if c, ok := b.(checker); ok {
		return b, c.check()
	}
	return b, nil
}

// DecodeValidated decodes the body into its kind's type without the JSON
// Schema and the checks Validate applies: for a body known to be valid,
// because this process encoded it a moment ago (the engine's own output)
// or because it was validated when it entered the log (the projection).
// Every auditor validates again.
func (e *Entry) DecodeValidated() (any, error) {
	mk := kinds[e.Kind]
	if mk == nil {
		return nil, guarantor.Errorf(guarantor.EUnsupported, "kind", "no body type for kind %q", e.Kind)
	}
	b := mk()
	if err := e.Decode(b); err != nil {
		return nil, err
	}
	return b, nil
}

// schemaError turns a jsonschema validation error into a guarantor error
// naming the deepest failing field.
func schemaError(kind Kind, err error) error {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return guarantor.Errorf(guarantor.EInvalid, "body", "%s body: %v", kind, err)
	}
	leaf := ve
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	ptr := "/" + strings.Join(leaf.InstanceLocation, "/")
	msg := leaf.ErrorKind.LocalizedString(printer)
	// Name the missing or unexpected property itself, not its parent.
	switch k := leaf.ErrorKind.(type) {
	case *jskind.Required:
		if len(k.Missing) > 0 {
			ptr = strings.TrimSuffix(ptr, "/") + "/" + k.Missing[0]
		}
	case *jskind.AdditionalProperties:
		if len(k.Properties) > 0 {
			ptr = strings.TrimSuffix(ptr, "/") + "/" + k.Properties[0]
		}
	}
	return &guarantor.Error{
		Code:    guarantor.EInvalid,
		Field:   ptr,
		Message: fmt.Sprintf("%s body at %s: %s", kind, ptr, msg),
		Err:     err,
	}
}

// KeyBody is the body of a key entry: it registers VKey with a role and a
// validity window.
type KeyBody struct {
	VKey      string    `json:"vkey"`
	Role      string    `json:"role"`
	Label     string    `json:"label,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Zones     []string  `json:"zones,omitempty"`
}

func (b *KeyBody) check() error {
	if _, err := note.NewVerifier(b.VKey); err != nil {
		return guarantor.Errorf(guarantor.EInvalid, "/vkey", "vkey %q is not a note verifier key (name+hash+base64 key): %v", b.VKey, err)
	}
	if _, err := guarantor.ParseRole(b.Role); err != nil {
		return guarantor.Errorf(guarantor.EInvalid, "/role", "%v", err)
	}
	if !b.NotBefore.Before(b.NotAfter) {
		return guarantor.Errorf(guarantor.EInvalid, "/not_after", "not_after %s must be after not_before %s", b.NotAfter.Format(time.RFC3339), b.NotBefore.Format(time.RFC3339))
	}
	return nil
}

// RevocationBody is the body of a revocation entry.
type RevocationBody struct {
	Key       string    `json:"key"` // name+hash
	Reason    string    `json:"reason"`
	Effective time.Time `json:"effective"`
}

// Point is a GeoJSON Point; Coordinates are [longitude, latitude], WGS84.
type Point struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"`
}

// Evidence names a media file in the blob store by its SHA-256.
type Evidence struct {
	SHA256    string `json:"sha256"`
	MediaType string `json:"media_type"`
}

// Observation is the body of an observation entry.
type Observation struct {
	ID         string     `json:"id"`
	ObservedAt time.Time  `json:"observed_at"`
	Location   Point      `json:"location"`
	Category   string     `json:"category"`
	AccuracyM  *float64   `json:"accuracy_m,omitempty"`
	Count      *int       `json:"count,omitempty"`
	BearingDeg *float64   `json:"bearing_deg,omitempty"`
	Weapon     string     `json:"weapon,omitempty"`
	SourceType string     `json:"source_type,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	Text       string     `json:"text,omitempty"`
	ExternalID string     `json:"external_id,omitempty"`
	Source     string     `json:"source,omitempty"`
	// Confirms, for a deployment_sighting, names the deployment report it
	// confirms.
	Confirms *Confirmation `json:"confirms,omitempty"`
}

// CategoryDeploymentSighting is the category of an observation that
// confirms a coalition deployment; it is not fused into incidents.
const CategoryDeploymentSighting = "deployment_sighting"

// Confirmation is what a monitor saw of a contributor's deployment.
type Confirmation struct {
	Contributor string  `json:"contributor"`
	Deployment  string  `json:"deployment"`
	Quantity    float64 `json:"quantity"`
}

// check requires confirms exactly on a deployment sighting.
func (b *Observation) check() error {
	if (b.Category == CategoryDeploymentSighting) != (b.Confirms != nil) {
		return guarantor.Errorf(guarantor.EInvalid, "/confirms", "an observation names the deployment it confirms (confirms) exactly when its category is %s", CategoryDeploymentSighting)
	}
	return nil
}

// Testimony is the body of a testimony entry: a statement received from
// someone without a registered key, signed by the server's intake key.
type Testimony struct {
	ID                string     `json:"id"`
	ReceivedAt        time.Time  `json:"received_at"`
	OccurredAt        *time.Time `json:"occurred_at,omitempty"`
	Location          *Point     `json:"location,omitempty"`
	Category          string     `json:"category,omitempty"`
	Text              string     `json:"text"`
	Language          string     `json:"language,omitempty"`
	SubmitterKind     string     `json:"submitter_kind,omitempty"`
	ContactCommitment string     `json:"contact_commitment,omitempty"`
	Evidence          []Evidence `json:"evidence,omitempty"`
}

// Categories lists the observation categories, in schema order.
var Categories = []string{"shelling", "small_arms", "drone_strike", "air_strike", "missile_strike", "explosion_heard", "heavy_weapon_sighting", "troop_movement", "mine", "movement_restriction", "civilian_casualty", "infrastructure_damage", "deployment_sighting", "other"}

// SourceTypes lists the observation source types, in schema order.
var SourceTypes = []string{"patrol", "camera", "uav", "satellite", "acoustic", "partner", "open_source"}

// Time returns the time an entry claims for itself, which validity windows
// and revocations are judged against, and whether it has one. Key and
// revocation entries are signed by the authority, whose key has no window.
func Time(body any) (time.Time, bool) {
	switch b := body.(type) {
	case *Observation:
		return b.ObservedAt, true
	case *Testimony:
		return b.ReceivedAt, true
	case *Verification:
		return b.At, true
	case *Tick:
		return b.At, true
	case *Response:
		return b.At, true
	case *Sanction:
		return b.At, true
	case *Pledge:
		return b.At, true
	case *Deployment:
		return b.At, true
	case *ExchangeList:
		return b.At, true
	case *ExchangeManifest:
		return b.At, true
	case *ExchangeConfirmation:
		return b.At, true
	case *PatrolPlan:
		return b.At, true
	case *PatrolReport:
		return b.At, true
	}
	return time.Time{}, false
}

// MarshalBody is json.Marshal for bodies; it exists so callers that build
// entries do not depend on encoding/json directly.
func MarshalBody(v any) ([]byte, error) { return json.Marshal(v) }

// Truncate cuts s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
