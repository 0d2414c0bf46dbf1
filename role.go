package guarantor

import (
	"fmt"
	"regexp"
	"strings"
)

// Role is what a registered key may do. Simple roles are fixed words;
// party and guarantor roles carry an identifier: "party:UA", "guarantor:UK".
type Role string

// The fixed roles.
const (
	RoleMonitor  Role = "monitor"  // a person or team of the mission
	RoleSensor   Role = "sensor"   // a fixed camera, acoustic sensor or other device
	RoleAnalyst  Role = "analyst"  // an imagery or data analyst of the mission
	RoleEngine   Role = "engine"   // the deterministic engine's own key
	RoleVerifier Role = "verifier" // the neutral verifier of prisoner exchanges
	RoleOperator Role = "operator" // a mission operator (plans, configuration)
	RoleIntake   Role = "intake"   // the server's key for what it receives from people without keys
)

var roleID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ParseRole checks s and returns it as a Role.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleMonitor, RoleSensor, RoleAnalyst, RoleEngine, RoleVerifier, RoleOperator, RoleIntake:
		return r, nil
	}
	for _, p := range []string{"party:", "guarantor:"} {
		if id, ok := strings.CutPrefix(s, p); ok {
			if !roleID.MatchString(id) {
				return "", fmt.Errorf("role %q: identifier after %q must be 1-64 letters, digits, '.', '_' or '-'", s, p)
			}
			return Role(s), nil
		}
	}
	return "", fmt.Errorf("role %q is not one of monitor, sensor, analyst, engine, verifier, operator, intake, party:ID, guarantor:ID", s)
}

// Observes reports whether keys of this role may sign observations.
func (r Role) Observes() bool {
	return r == RoleMonitor || r == RoleSensor || r == RoleAnalyst
}
