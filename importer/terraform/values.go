package terraform

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Attribute values, from .tf source and from plan JSON alike, are plain Go
// values: nil, string, float64, bool, []any, map[string]any, or unknown
// (known only at apply time).
type unknown struct{}

// Placeholders stand for values Terraform knows only at apply time but
// that say where they come from: the id of a resource (so that a subnet_id
// leads to its subnet) and an availability zone read from a data source
// (so that zones keep a name, such as "local.azs[0]"). They start with a
// byte no real value holds.
const (
	refMark  = "\x00ref:"
	zoneMark = "\x00zone:"
)

// refOf returns the placeholder of attribute attr of the resource at addr.
func refOf(addr, attr string) string { return refMark + addr + "." + attr }

// refAddr returns the resource address a placeholder id names.
func refAddr(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, refMark)
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return "", false
	}
	return rest[:i], true
}

// zoneOf returns the placeholder of a zone known by expression only.
func zoneOf(expr string) string { return zoneMark + expr }

// attr returns the value at a path of keys (and, for lists, the first
// element: nested blocks are lists of one).
func attr(v any, path ...string) any {
	for _, k := range path {
		if l, ok := v.([]any); ok {
			if len(l) == 0 {
				return nil
			}
			v = l[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str returns a known string value ("" otherwise; numbers and bools are
// formatted as Terraform converts them).
func str(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// boolean returns a known bool (or "true"/"false" string) value.
func boolean(v any) (b, ok bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		return b, err == nil
	}
	return false, false
}

// number returns a known number (or numeric string) value.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// list returns the elements of a list, a set or a tuple; a single value is
// a list of one, nil a list of none.
func list(v any) ([]any, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case []any:
		return v, true
	case unknown:
		return nil, false
	}
	return []any{v}, true
}

// fromCty turns a cty value into a plain one.
func fromCty(v cty.Value) any {
	if !v.IsKnown() {
		return unknown{}
	}
	if v.IsNull() {
		return nil
	}
	v, _ = v.Unmark()
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return f
	case t == cty.Bool:
		return v.True()
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, fromCty(e))
		}
		return out
	case t.IsMapType() || t.IsObjectType():
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = fromCty(e)
		}
		return out
	}
	return unknown{}
}

// toCty turns a plain value into a cty one (lists become tuples and maps
// objects, which hold any mix of types).
func toCty(v any) cty.Value {
	switch v := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType)
	case string:
		return cty.StringVal(v)
	case float64:
		return cty.NumberVal(big.NewFloat(v))
	case bool:
		return cty.BoolVal(v)
	case []any:
		if len(v) == 0 {
			return cty.EmptyTupleVal
		}
		out := make([]cty.Value, len(v))
		for i, e := range v {
			out[i] = toCty(e)
		}
		return cty.TupleVal(out)
	case map[string]any:
		if len(v) == 0 {
			return cty.EmptyObjectVal
		}
		out := make(map[string]cty.Value, len(v))
		for k, e := range v {
			out[k] = toCty(e)
		}
		return cty.ObjectVal(out)
	}
	return cty.DynamicVal
}
