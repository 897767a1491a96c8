// Package terraform imports a spof model from Terraform: the .tf source of
// a root module, or the JSON of a plan or a state (terraform show -json).
//
// From source, local modules are followed with their variables bound from
// the call's arguments, and expressions are evaluated as far as the files
// allow (variable defaults, tfvars, locals; literal count and for_each
// expand); what is known only at apply time stays unknown. The most used
// terraform-aws-modules registry modules (vpc, rds, rds-aurora,
// elasticache, eks, alb, autoscaling) are understood from their inputs
// when their source is not on disk. Plan and state JSON are the expanded
// truth and are read as they are.
//
// Both inputs become the same list of resource instances, from which one
// set of rules builds the model: databases and caches with their
// replicas and failover, NAT gateways and the private subnets whose egress
// they carry, load balancers and their zones, autoscaling groups and
// instances, Route 53 failover records; GCP and Azure equivalents.
// Managed, regionally redundant services (S3, DynamoDB, SQS, internet
// gateways, ...) are left out: they are not single points of failure.
// Resource types the importer does not know are listed in notes.
//
// Nothing here runs terraform or reaches the network.
package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// Options steer Import.
type Options struct {
	// VarFiles are .tfvars files read, in order, after terraform.tfvars and
	// *.auto.tfvars of each root directory (later files win).
	VarFiles []string
	// Vars are values given as -var name=value would be: HCL expressions,
	// or bare strings.
	Vars map[string]string
}

// Import reads each path, a directory of .tf files (a root module), a
// single .tf file, or a JSON file from terraform show -json (of a plan or
// of a state), and adds what it finds to b. Malformed input is a
// model.ErrorList with file:line:col and a hint for each problem.
func Import(b *importer.Builder, paths []string, opts Options) error {
	r := newReader(b, opts)
	var errs model.ErrorList
	for _, p := range paths {
		if err := r.readPath(p); err != nil {
			var l model.ErrorList
			var e *model.Error
			switch {
			case errors.As(err, &l):
				errs = append(errs, l...)
			case errors.As(err, &e):
				errs = append(errs, e)
			default:
				return err
			}
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return errs
	}
	r.build()
	return nil
}

func (r *reader) readPath(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("terraform: %w", err)
	}
	if st.IsDir() {
		return r.readRoot(p, nil)
	}
	data, err := r.b.ReadFile(p)
	if err != nil {
		return fmt.Errorf("terraform: %w", err)
	}
	if strings.HasSuffix(p, ".tf") {
		return r.readRoot(filepath.Dir(p), []string{p})
	}
	if isJSON(data) {
		return r.readJSON(p, data)
	}
	return &model.Error{Pos: model.Pos{File: p}, Msg: "neither a directory of .tf files, a .tf file nor terraform show -json output",
		Hint: "give a root module's directory, or the output of terraform show -json plan.out"}
}

func isJSON(data []byte) bool {
	data = bytes.TrimSpace(data)
	return len(data) > 0 && data[0] == '{'
}

// tfFiles returns the .tf files of a directory, sorted (os.ReadDir sorts).
func tfFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("terraform: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.Type()&fs.ModeType == 0 && strings.HasSuffix(e.Name(), ".tf") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// posOf is a JSON-free helper for tests and plans: the line and column of
// byte offset off in data.
func posOf(file string, data []byte, off int) model.Pos {
	off = min(max(off, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return model.Pos{File: file, Line: line, Col: col}
}

// jsonError positions a JSON syntax error.
func jsonError(file string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &model.Error{Pos: posOf(file, data, int(se.Offset)), Msg: "invalid JSON: " + se.Error(),
			Hint: "give the output of terraform show -json, unchanged"}
	case errors.As(err, &te):
		return &model.Error{Pos: posOf(file, data, int(te.Offset)), Path: te.Field, Msg: "unexpected JSON value: " + te.Error(),
			Hint: "give the output of terraform show -json, unchanged"}
	}
	return &model.Error{Pos: model.Pos{File: file, Line: 1, Col: 1}, Msg: "invalid JSON: " + err.Error(),
		Hint: "give the output of terraform show -json, unchanged"}
}
