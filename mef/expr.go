package mef

import (
	"math"
	"strconv"
	"strings"
)

// MissionTime is the time, in hours, that <system-mission-time/> stands
// for: SCRAM's default mission time, one year.
const MissionTime = 8760.0

// supportedExpressions lists, for error hints, what eval understands.
var supportedExpressions = []string{
	"float", "int", "bool", "parameter", "system-mission-time", "neg", "add", "sub", "mul", "div",
	"exponential", "GLM", "Weibull", "periodic-test (4 arguments)",
	"uniform-deviate", "normal-deviate", "lognormal-deviate", "gamma-deviate", "beta-deviate",
}

// paramDef is a define-parameter.
type paramDef struct {
	path  string // the key in model.params
	base  string // the container's path, where its references are looked up first
	n     *node
	expr  *node
	state uint8 // 0 not evaluated, 1 being evaluated, 2 done
	value float64
}

// exprChild returns the one expression among def's children (labels and
// attributes aside), or nil when there is none.
func exprChild(def *node) (*node, error) {
	var e *node
	for _, k := range def.kids {
		if k.name == "label" || k.name == "attributes" {
			continue
		}
		if e != nil {
			return nil, k.errorf(nil, "", "<%s> has a second expression <%s>", def.name, k.name)
		}
		e = k
	}
	return e, nil
}

// eval computes an expression's point value as SCRAM does: deviates
// stand for their mean, <system-mission-time/> for MissionTime.
func (m *model) eval(e *node, base string) (float64, error) {
	args := func(min, max int) ([]float64, error) {
		if len(e.kids) < min || (max >= 0 && len(e.kids) > max) {
			want := strconv.Itoa(min)
			switch {
			case max < 0:
				want = "at least " + want
			case max != min:
				want += " to " + strconv.Itoa(max)
			}
			return nil, e.errorf(nil, "", "<%s> takes %s arguments, not %d", e.name, want, len(e.kids))
		}
		vs := make([]float64, len(e.kids))
		for i, k := range e.kids {
			v, err := m.eval(k, base)
			if err != nil {
				return nil, err
			}
			vs[i] = v
		}
		return vs, nil
	}
	number := func() (float64, error) {
		s, ok := e.attr("value")
		if !ok {
			return 0, e.errorf(nil, "", "<%s> has no value attribute", e.name)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, e.errorf(nil, "", "<%s value=%q>: not a finite number", e.name, s)
		}
		return v, nil
	}
	switch e.name {
	case "float":
		return number()
	case "int":
		v, err := number()
		if err == nil && v != math.Trunc(v) {
			return 0, e.errorf(nil, "", "<int value=%v>: not an integer", v)
		}
		return v, err
	case "bool":
		s, _ := e.attr("value")
		switch s {
		case "true":
			return 1, nil
		case "false":
			return 0, nil
		}
		return 0, e.errorf(nil, "", "<bool value=%q>: want true or false", s)
	case "system-mission-time":
		return MissionTime, nil
	case "parameter":
		p, err := m.lookupParam(e, base)
		if err != nil {
			return 0, err
		}
		return m.evalParam(p)
	case "neg":
		v, err := args(1, 1)
		if err != nil {
			return 0, err
		}
		return -v[0], nil
	case "add", "sub", "mul", "div":
		v, err := args(2, -1)
		if err != nil {
			return 0, err
		}
		r := v[0]
		for i, x := range v[1:] {
			switch e.name {
			case "add":
				r += x
			case "sub":
				r -= x
			case "mul":
				r *= x
			case "div":
				if x == 0 {
					return 0, e.kids[i+1].errorf(nil, "", "division by zero")
				}
				r /= x
			}
		}
		return r, nil
	case "exponential":
		v, err := args(2, 2)
		if err != nil {
			return 0, err
		}
		return 1 - math.Exp(-v[0]*v[1]), nil
	case "GLM":
		v, err := args(4, 4)
		if err != nil {
			return 0, err
		}
		gamma, lambda, mu, t := v[0], v[1], v[2], v[3]
		r := lambda + mu
		if r == 0 {
			return gamma, nil
		}
		return (lambda - (lambda-gamma*r)*math.Exp(-r*t)) / r, nil
	case "Weibull":
		v, err := args(4, 4)
		if err != nil {
			return 0, err
		}
		alpha, beta, t0, t := v[0], v[1], v[2], v[3]
		if alpha <= 0 || t < t0 {
			return 0, nil
		}
		return 1 - math.Exp(-math.Pow((t-t0)/alpha, beta)), nil
	case "periodic-test":
		if len(e.kids) != 4 {
			return 0, e.errorf(ErrUnsupported, "only the 4-argument form (lambda, tau, theta, time) is supported", "<periodic-test> with %d arguments", len(e.kids))
		}
		v, err := args(4, 4)
		if err != nil {
			return 0, err
		}
		lambda, tau, theta, t := v[0], v[1], v[2], v[3]
		if t > theta && tau > 0 {
			t = math.Mod(t-theta, tau) // time since the last test
		}
		return 1 - math.Exp(-lambda*t), nil
	case "uniform-deviate":
		v, err := args(2, 2)
		if err != nil {
			return 0, err
		}
		return (v[0] + v[1]) / 2, nil
	case "normal-deviate":
		v, err := args(2, 2)
		if err != nil {
			return 0, err
		}
		return v[0], nil
	case "lognormal-deviate":
		v, err := args(2, 3)
		if err != nil {
			return 0, err
		}
		if len(v) == 3 { // mean, error factor, level
			return v[0], nil
		}
		return math.Exp(v[0] + v[1]*v[1]/2), nil // mu, sigma of the log
	case "gamma-deviate":
		v, err := args(2, 2)
		if err != nil {
			return 0, err
		}
		return v[0] * v[1], nil
	case "beta-deviate":
		v, err := args(2, 2)
		if err != nil {
			return 0, err
		}
		if v[0]+v[1] == 0 {
			return 0, e.errorf(nil, "", "<beta-deviate> with alpha + beta = 0")
		}
		return v[0] / (v[0] + v[1]), nil
	}
	return 0, e.errorf(ErrUnsupported, "supported: "+strings.Join(supportedExpressions, ", "), "expression <%s> is not supported", e.name)
}

func (m *model) evalParam(p *paramDef) (float64, error) {
	switch p.state {
	case 2:
		return p.value, nil
	case 1:
		return 0, p.n.errorf(ErrCycle, "", "parameter %q depends on itself", p.path)
	}
	p.state = 1
	if p.expr == nil {
		return 0, p.n.errorf(nil, "", "parameter %q has no expression", p.path)
	}
	v, err := m.eval(p.expr, p.base)
	if err != nil {
		return 0, err
	}
	p.value, p.state = v, 2
	return v, nil
}
