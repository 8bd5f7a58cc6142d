package driver

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed platforms/*.yaml
var platformFS embed.FS

// Platform status values (Platform.Status).
const (
	// PlatformStable marks a definition checked against device captures.
	PlatformStable = "stable"
	// PlatformDraft marks a definition with unverified prompts or failure strings.
	PlatformDraft = "draft"
)

// Default timeouts used when neither the platform definition nor the Config sets one.
const (
	// DefaultDialTimeout bounds TCP connect + SSH handshake + first prompt.
	DefaultDialTimeout = 15 * time.Second
	// DefaultOpTimeout bounds one Send or Interact (a sooner ctx deadline wins).
	DefaultOpTimeout = 60 * time.Second
)

// Platform describes a device CLI: how its prompt looks, what to send after login, and how it
// reports a rejected command. Definitions are data (YAML, see ParsePlatform); the built-in
// ones are embedded in the binary (LoadPlatform, PlatformNames).
//
// A Platform is immutable once parsed and safe to share between sessions.
type Platform struct {
	// Name identifies the definition, e.g. "clavister_cos_core".
	Name string
	// Description is free text for humans.
	Description string
	// Status is PlatformStable or PlatformDraft.
	Status string
	// Prompt matches the device's prompt at the end of the output (Go regexp; use (?m) to
	// anchor with ^ and $ on lines).
	Prompt *regexp.Regexp
	// OnOpen commands are sent after login, before Open returns (e.g. paging off). A rejection
	// fails Open with a *CommandError.
	OnOpen []string
	// OnClose commands are sent, best effort, by Close.
	OnClose []string
	// FailedWhenContains lists substrings (case-sensitive) that mark a command's output as a
	// rejection (*CommandError), with scrapligo's "failed-when-contains" semantics.
	FailedWhenContains []string
	// FailedWhenMatches lists regexps with the same purpose, for strings that need anchoring.
	FailedWhenMatches []*regexp.Regexp
	// DialTimeout bounds connect + handshake + first prompt (default DefaultDialTimeout).
	DialTimeout time.Duration
	// OpTimeout bounds one call unless Config.Timeout is set (default DefaultOpTimeout); a
	// sooner ctx deadline wins.
	OpTimeout time.Duration
	// TermWidth is the PTY width requested, in columns (default 511, so lines do not wrap).
	TermWidth int
}

// platformYAML is the on-disk shape of a platform definition.
type platformYAML struct {
	Name               string   `yaml:"name"`
	Description        string   `yaml:"description"`
	Status             string   `yaml:"status"`
	Prompt             string   `yaml:"prompt"`
	OnOpen             []string `yaml:"on-open"`
	OnClose            []string `yaml:"on-close"`
	FailedWhenContains []string `yaml:"failed-when-contains"`
	FailedWhenMatches  []string `yaml:"failed-when-matches"`
	Timeouts           struct {
		Dial string `yaml:"dial"`
		Ops  string `yaml:"ops"`
	} `yaml:"timeouts"`
	TermWidth int `yaml:"term-width"`
}

const defaultTermWidth = 511

// ParsePlatform parses a YAML platform definition. Unknown keys are errors (a typo must not
// silently drop a failure string). All problems are reported at once as *ConfigError values
// (Field "Platform.<key>") joined with errors.Join.
//
// Format:
//
//	name: clavister_cos_core            # required
//	description: free text
//	status: stable                      # stable | draft (default stable)
//	prompt: '(?m)^[\w.\-]+:/[^\r\n>]*>\s*$'   # required, Go regexp
//	on-open: [ "set cli screen-length 0" ]
//	on-close: []
//	failed-when-contains: [ "Error:" ]  # substrings
//	failed-when-matches: [ '(?m)^\s*Invalid\b' ]  # Go regexps
//	timeouts: { dial: 15s, ops: 60s }   # Go durations
//	term-width: 511
func ParsePlatform(data []byte) (*Platform, error) {
	var y platformYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		return nil, &ConfigError{Field: "Platform", Problem: "invalid YAML: " + err.Error()}
	}
	var errs []error
	bad := func(field, problem string) {
		errs = append(errs, &ConfigError{Field: "Platform." + field, Problem: problem})
	}
	p := &Platform{
		Name:               strings.TrimSpace(y.Name),
		Description:        strings.TrimSpace(y.Description),
		Status:             y.Status,
		OnOpen:             slices.Clone(y.OnOpen),
		OnClose:            slices.Clone(y.OnClose),
		FailedWhenContains: slices.Clone(y.FailedWhenContains),
		DialTimeout:        DefaultDialTimeout,
		OpTimeout:          DefaultOpTimeout,
		TermWidth:          y.TermWidth,
	}
	if p.Name == "" {
		bad("name", "required")
	}
	switch p.Status {
	case "":
		p.Status = PlatformStable
	case PlatformStable, PlatformDraft:
	default:
		bad("status", fmt.Sprintf("%q is not %q or %q", p.Status, PlatformStable, PlatformDraft))
	}
	if y.Prompt == "" {
		bad("prompt", "required")
	} else if re, err := regexp.Compile(y.Prompt); err != nil {
		bad("prompt", err.Error())
	} else {
		p.Prompt = re
	}
	for i, s := range p.FailedWhenContains {
		if s == "" {
			bad(fmt.Sprintf("failed-when-contains[%d]", i), "empty string matches every output")
		}
	}
	for i, s := range y.FailedWhenMatches {
		re, err := regexp.Compile(s)
		if err != nil {
			bad(fmt.Sprintf("failed-when-matches[%d]", i), err.Error())
			continue
		}
		if re.MatchString("") {
			bad(fmt.Sprintf("failed-when-matches[%d]", i), "pattern matches empty output")
			continue
		}
		p.FailedWhenMatches = append(p.FailedWhenMatches, re)
	}
	for i, c := range append(slices.Clone(p.OnOpen), p.OnClose...) {
		if strings.ContainsAny(c, "\r\n") || strings.TrimSpace(c) == "" {
			bad(fmt.Sprintf("on-open/on-close[%d]", i), "command must be one non-empty line")
		}
	}
	parseDur := func(field, s string, dst *time.Duration) {
		if s == "" {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			bad(field, fmt.Sprintf("%q is not a positive duration", s))
			return
		}
		*dst = d
	}
	parseDur("timeouts.dial", y.Timeouts.Dial, &p.DialTimeout)
	parseDur("timeouts.ops", y.Timeouts.Ops, &p.OpTimeout)
	switch {
	case p.TermWidth == 0:
		p.TermWidth = defaultTermWidth
	case p.TermWidth < 0:
		bad("term-width", "must be positive")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// LoadPlatform returns the embedded platform definition with the given name (see
// PlatformNames), e.g. "clavister_cos_core" or "generic". Each call returns a fresh copy.
// Unknown names give a *ConfigError.
func LoadPlatform(name string) (*Platform, error) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return nil, &ConfigError{Field: "Platform", Problem: fmt.Sprintf("invalid platform name %q", name)}
	}
	data, err := platformFS.ReadFile("platforms/" + name + ".yaml")
	if err != nil {
		return nil, &ConfigError{Field: "Platform", Problem: fmt.Sprintf(
			"unknown platform %q (known: %s)", name, strings.Join(PlatformNames(), ", "))}
	}
	return ParsePlatform(data)
}

// PlatformNames lists the embedded platform definitions, sorted.
func PlatformNames() []string {
	entries, err := fs.ReadDir(platformFS, "platforms")
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	slices.Sort(names)
	return names
}

// rejection reports the failure string or pattern that output matches, or "".
func (p *Platform) rejection(output string) string {
	for _, s := range p.FailedWhenContains {
		if strings.Contains(output, s) {
			return s
		}
	}
	for _, re := range p.FailedWhenMatches {
		if re.MatchString(output) {
			return re.String()
		}
	}
	return ""
}
