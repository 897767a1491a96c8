package report

import (
	"io"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// SARIFOptions controls SARIF.
type SARIFOptions struct {
	// ToolVersion is the version of spof, reported as tool.driver.version.
	ToolVersion string
	// BaseDir is the directory artifact URIs are relative to: the root of
	// the repository that code scanning annotates (%SRCROOT%). Location
	// files are made relative to it lexically (filepath.Rel), so give both
	// absolute, or both relative to the same directory; a relative file
	// that cannot be compared is taken as already relative to BaseDir.
	BaseDir string
	// ModelFile is the model's file name, the location of findings that
	// carry none (line 1). It defaults to spof.yaml.
	ModelFile string
}

// SARIF constants. The schema URI is the one GitHub code scanning accepts.
const (
	sarifSchema   = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion  = "2.1.0"
	sarifToolURI  = "https://github.com/spofhq/spof"
	sarifSrcRoot  = "%SRCROOT%"
	fingerprintID = "spofFindingId/v1"
)

// sarifRules has one rule per finding category; ruleIndex points into it.
var sarifRules = []sarifRule{
	{
		ID:   "spof/spof",
		Name: "SinglePointOfFailure",
		ShortDescription: sarifMessage{
			Text: "A single failure takes a user flow down"},
		FullDescription: sarifMessage{
			Text: "One basic event (a component, a replica, a zone, a region, a provider or a hazard) whose failure alone stops at least one flow declared in the spof model."},
		Help: sarifMultiformat{
			Text:     "Remove the single point of failure: add a replica in another failure domain with automatic failover, guard the call with a circuit breaker and a fallback, or make it asynchronous through a queue. Each result names the fix for its case.",
			Markdown: "Remove the single point of failure: add a replica in another failure domain with **automatic failover**, guard the call with a **circuit breaker and a fallback**, or make it **asynchronous** through a queue. Each result names the fix for its case, and the chain of reasons that leads from the failure to the flow.",
		},
		DefaultConfiguration: sarifConfiguration{Level: "error"},
	},
	{
		ID:   "spof/degradation",
		Name: "DegradationOnFailure",
		ShortDescription: sarifMessage{
			Text: "A single failure degrades a user flow"},
		FullDescription: sarifMessage{
			Text: "One basic event that stops no flow but leaves one degraded: it runs on a fallback, a cached answer or a growing backlog. The fallback is a claim until an experiment verifies it."},
		Help: sarifMultiformat{
			Text:     "Verify the fallback with a chaos experiment (spof chaos plan; spof chaos run) and keep it verified.",
			Markdown: "Verify the fallback with a chaos experiment (`spof chaos plan`, then `spof chaos run`) and keep it verified: the checklist marks fallbacks stale after 30 days.",
		},
		DefaultConfiguration: sarifConfiguration{Level: "note"},
	},
	{
		ID:   "spof/recovery",
		Name: "RecoverySinglePointOfFailure",
		ShortDescription: sarifMessage{
			Text: "A single failure blocks start-up, deploy or recovery"},
		FullDescription: sarifMessage{
			Text: "One basic event that stops no running flow but takes down something a component needs to start, deploy or recover (a when: edge): while it is down no restart, scale-out or hotfix is possible."},
		Help: sarifMultiformat{
			Text:     "Make start-up, deploy and recovery independent of the failed dependency: cache configuration and secrets locally, keep a manual deploy path, make the recovery tooling redundant.",
			Markdown: "Make start-up, deploy and recovery independent of the failed dependency: cache configuration and secrets locally (last known good), keep a documented **manual deploy path**, make the recovery tooling redundant.",
		},
		DefaultConfiguration: sarifConfiguration{Level: "warning"},
	},
	{
		ID:   "spof/operational",
		Name: "OperationalSinglePointOfFailure",
		ShortDescription: sarifMessage{
			Text: "Only one person can operate part of a critical flow"},
		FullDescription: sarifMessage{
			Text: "A person with bus factor 1: the only one who knows how to run a component a critical flow needs, or the only holder of a resource such as a registrar account or a credential."},
		Help: sarifMultiformat{
			Text:     "Share the knowledge or the resource: write and rehearse the runbook with a second person, put credentials in a shared vault with break-glass access.",
			Markdown: "Share the knowledge or the resource: write the runbook and **rehearse it with a second person**; put credentials in a shared vault with break-glass access.",
		},
		DefaultConfiguration: sarifConfiguration{Level: "warning"},
	},
}

// sarifRuleIndex maps a category to its rule's index in sarifRules, or -1.
func sarifRuleIndex(c analysis.Category) int {
	for i, r := range sarifRules {
		if r.ID == "spof/"+string(c) {
			return i
		}
	}
	return -1
}

// SARIF writes r as a SARIF 2.1.0 log that GitHub code scanning accepts: one
// run, one rule per category, one result per finding located at its
// declaration in the model. With a baseline (g.Baseline), each result has a
// baselineState, "new" or "unchanged", and each baseline finding that no
// longer occurs is a result of its own with baselineState "absent" (kind
// "pass", level "none": it is no problem any more).
func SARIF(w io.Writer, r *analysis.Result, g analysis.Gate, o SARIFOptions) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "spof",
			InformationURI: sarifToolURI,
			Version:        o.ToolVersion,
			Rules:          sarifRules,
		}},
		OriginalURIBaseIDs: map[string]sarifArtifactLocation{sarifSrcRoot: baseDirLocation(o.BaseDir)},
		ColumnKind:         "unicodeCodePoints",
		Results:            make([]sarifResult, 0, len(r.Findings)),
	}
	for _, f := range r.Findings {
		res := sarifFindingResult(f, o)
		res.BaselineState = string(g.BaselineState(f))
		run.Results = append(run.Results, res)
	}
	for _, f := range g.Fixed(r.Findings) {
		run.Results = append(run.Results, sarifFixedResult(f, o))
	}
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
	return writeJSON(w, "SARIF report", log)
}

func sarifFindingResult(f analysis.Finding, o SARIFOptions) sarifResult {
	res := sarifResultFor(f.ID, f.Category, f.Severity, f.Event, f.Flows, f.Location, o)
	res.Level = sarifLevel(f)
	res.Message = sarifMessage{Text: sarifText(f)}
	return res
}

// sarifFixedResult is a baseline finding that no longer occurs. The
// baseline does not say where it was declared: it is located on line 1 of
// the model, and matched to its earlier result by its fingerprint.
func sarifFixedResult(f analysis.BaselineFinding, o SARIFOptions) sarifResult {
	res := sarifResultFor(f.ID, f.Category, f.Severity, f.Event, f.Flows, model.Pos{}, o)
	res.Kind, res.Level = "pass", "none"
	res.BaselineState = string(analysis.BaselineAbsent)
	res.Message = sarifMessage{Text: f.Event + " no longer " + sarifVerb(f.Category) + " " + flowList(f.Flows) + ": fixed since the baseline."}
	return res
}

// sarifResultFor is what every result says of its finding: rule, location,
// fingerprint and properties.
func sarifResultFor(id string, c analysis.Category, sev model.Criticality, event string, flows []string, pos model.Pos, o SARIFOptions) sarifResult {
	res := sarifResult{
		RuleID:              "spof/" + string(c),
		Locations:           []sarifLocation{{PhysicalLocation: sarifPhysicalLocation(pos, o)}},
		PartialFingerprints: map[string]string{fingerprintID: id},
		Properties: sarifResultProperties{
			Severity: sev.String(),
			Category: string(c),
			Event:    event,
			Flows:    nonNil(flows),
		},
	}
	// A category this version has no rule for keeps its ruleId only: a
	// ruleIndex must point at a rule.
	if i := sarifRuleIndex(c); i >= 0 {
		res.RuleIndex = &i
	}
	return res
}

// sarifLevel maps a finding to a SARIF level: critical and high are errors,
// medium a warning, low (and every degradation) a note.
func sarifLevel(f analysis.Finding) string {
	if f.Category == analysis.CategoryDegradation {
		return "note"
	}
	switch f.Severity {
	case model.Critical, model.High:
		return "error"
	case model.Medium:
		return "warning"
	}
	return "note"
}

// sarifText is the plain-text message of a finding: what fails, what it
// stops, why, and the fix.
func sarifText(f analysis.Finding) string {
	var b strings.Builder
	b.WriteString(f.Event + " " + sarifVerb(f.Category) + " " + flowList(f.Flows))
	if f.Category.CanFail() {
		b.WriteString(" (" + f.Severity.String() + " " + string(f.Category) + ").")
	} else {
		b.WriteString(" (a degradation of " + f.Severity.String() + " flows; degradations never fail the check).")
	}
	if len(f.Chain) > 0 {
		b.WriteString(" Why: " + strings.Join(f.Chain, " → ") + ".")
	}
	if f.Fix != "" {
		b.WriteString(" Fix: " + f.Fix)
		if !strings.HasSuffix(f.Fix, ".") {
			b.WriteString(".")
		}
	}
	return b.String()
}

// sarifVerb says what a finding of category c does to its flows.
func sarifVerb(c analysis.Category) string {
	switch c {
	case analysis.CategorySPOF:
		return "takes down"
	case analysis.CategoryDegradation:
		return "degrades"
	case analysis.CategoryRecovery:
		return "blocks start-up, deploy or recovery of"
	case analysis.CategoryOperational:
		return "is the only one who can operate"
	}
	return "affects"
}

// flowList joins flow names, or says "no flow".
func flowList(flows []string) string {
	if len(flows) == 0 {
		return "no flow"
	}
	return strings.Join(flows, ", ")
}

// sarifPhysicalLocation locates a finding at its declaration, or on line 1
// of the model file when its position is unknown.
func sarifPhysicalLocation(p model.Pos, o SARIFOptions) sarifPhysical {
	file := p.File
	if file == "" {
		file = o.ModelFile
	}
	if file == "" {
		file = "spof.yaml"
	}
	region := sarifRegion{StartLine: 1}
	if p.Line > 0 {
		region.StartLine = p.Line
		if p.Col > 0 {
			region.StartColumn = p.Col
		}
	}
	return sarifPhysical{ArtifactLocation: artifactLocation(file, o.BaseDir), Region: region}
}

// artifactLocation makes file a URI relative to %SRCROOT% (baseDir), with
// forward slashes. An absolute file outside baseDir becomes a file: URI.
func artifactLocation(file, baseDir string) sarifArtifactLocation {
	if baseDir != "" && filepath.IsAbs(file) == filepath.IsAbs(baseDir) {
		if rel, err := filepath.Rel(baseDir, file); err == nil && !escapesBase(rel) {
			file = rel
		}
	}
	if filepath.IsAbs(file) || filepath.VolumeName(file) != "" {
		return sarifArtifactLocation{URI: fileURI(file)}
	}
	p := path.Clean(filepath.ToSlash(file))
	return sarifArtifactLocation{URI: (&url.URL{Path: p}).EscapedPath(), URIBaseID: sarifSrcRoot}
}

// escapesBase reports whether a relative path leaves its base directory.
func escapesBase(rel string) bool {
	rel = filepath.ToSlash(rel)
	return rel == ".." || strings.HasPrefix(rel, "../")
}

// baseDirLocation describes %SRCROOT%: a file: URI when baseDir is absolute
// (a SARIF base URI must be absolute and end with a slash), a description
// otherwise.
func baseDirLocation(baseDir string) sarifArtifactLocation {
	if baseDir != "" && (filepath.IsAbs(baseDir) || filepath.VolumeName(baseDir) != "") {
		u := fileURI(baseDir)
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		return sarifArtifactLocation{URI: u}
	}
	return sarifArtifactLocation{Description: &sarifMessage{
		Text: "The root of the source tree: artifact URIs are relative to it."}}
}

// fileURI formats an absolute path as a file: URI, with forward slashes and
// a leading slash before a Windows drive letter.
func fileURI(p string) string {
	p = filepath.ToSlash(filepath.Clean(p))
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return "file://" + (&url.URL{Path: p}).EscapedPath()
}

// The SARIF 2.1.0 subset spof writes. Field order follows the
// specification's examples, so the output reads top to bottom.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool               sarifTool                        `json:"tool"`
		OriginalURIBaseIDs map[string]sarifArtifactLocation `json:"originalUriBaseIds"`
		ColumnKind         string                           `json:"columnKind"`
		Results            []sarifResult                    `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Version        string      `json:"version,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifMessage       `json:"shortDescription"`
		FullDescription      sarifMessage       `json:"fullDescription"`
		Help                 sarifMultiformat   `json:"help"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifMultiformat struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifArtifactLocation struct {
		URI         string        `json:"uri,omitempty"`
		URIBaseID   string        `json:"uriBaseId,omitempty"`
		Description *sarifMessage `json:"description,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Region           sarifRegion           `json:"region"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifResultProperties struct {
		Severity string   `json:"severity"`
		Category string   `json:"category"`
		Event    string   `json:"event"`
		Flows    []string `json:"flows"`
	}
)

// sarifResult is one finding.
type sarifResult struct {
	RuleID              string                `json:"ruleId"`
	RuleIndex           *int                  `json:"ruleIndex,omitempty"`
	Kind                string                `json:"kind,omitempty"`
	Level               string                `json:"level"`
	Message             sarifMessage          `json:"message"`
	Locations           []sarifLocation       `json:"locations"`
	PartialFingerprints map[string]string     `json:"partialFingerprints"`
	BaselineState       string                `json:"baselineState,omitempty"`
	Properties          sarifResultProperties `json:"properties"`
}
