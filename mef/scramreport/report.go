// Package scramreport reads the XML report SCRAM writes (scram ... -o
// report.xml), so tests and the benchmark can compare spof's results with
// SCRAM's: the model's size, and for each top event the number of minimal
// cut sets (products), their distribution by order, the probability, and
// each product's literals.
package scramreport

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Report is what a SCRAM report says about a model.
type Report struct {
	Features Features
	Results  []SumOfProducts // one per top event
}

// Features is the report's <model-features>: counts of what the model defines.
type Features struct {
	Gates       int
	BasicEvents int
	HouseEvents int
	FaultTrees  int
}

// SumOfProducts is one top event's minimal cut sets.
type SumOfProducts struct {
	Name        string // the top gate
	BasicEvents int    // distinct basic events in the products
	Count       int    // number of products
	// Probability is the top event's probability, when the analysis
	// computed one (HasProbability).
	Probability    float64
	HasProbability bool
	// Distribution[i] is the number of products of order i+1.
	Distribution []int
	Warning      string
	Products     []Product
}

// Product is one minimal cut set.
type Product struct {
	Order       int
	Probability float64 // 0 without probability analysis
	Literals    []Literal
}

// Literal is a basic event in a product, complemented for non-coherent trees.
type Literal struct {
	Event string
	Not   bool
}

type xmlReport struct {
	Features struct {
		Gates       int `xml:"gates"`
		BasicEvents int `xml:"basic-events"`
		HouseEvents int `xml:"house-events"`
		FaultTrees  int `xml:"fault-trees"`
	} `xml:"information>model-features"`
	Results []struct {
		Name         string  `xml:"name,attr"`
		BasicEvents  int     `xml:"basic-events,attr"`
		Products     int     `xml:"products,attr"`
		Probability  *string `xml:"probability,attr"`
		Distribution string  `xml:"distribution,attr"`
		Warning      string  `xml:"warning,attr"`
		List         []struct {
			Order       int    `xml:"order,attr"`
			Probability string `xml:"probability,attr"`
			Events      []struct {
				Name string `xml:"name,attr"`
			} `xml:"basic-event"`
			Nots []struct {
				Name string `xml:"name,attr"`
			} `xml:"not>basic-event"`
		} `xml:"product"`
	} `xml:"results>sum-of-products"`
}

// Parse reads a SCRAM report.
func Parse(r io.Reader) (*Report, error) {
	var x xmlReport
	if err := xml.NewDecoder(r).Decode(&x); err != nil {
		return nil, fmt.Errorf("reading SCRAM report: %w", err)
	}
	rep := &Report{Features: Features(x.Features)}
	for _, s := range x.Results {
		sp := SumOfProducts{Name: s.Name, BasicEvents: s.BasicEvents, Count: s.Products, Warning: s.Warning}
		if s.Probability != nil {
			p, err := strconv.ParseFloat(*s.Probability, 64)
			if err != nil {
				return nil, fmt.Errorf("reading SCRAM report: sum-of-products %q: probability: %w", s.Name, err)
			}
			sp.Probability, sp.HasProbability = p, true
		}
		for _, f := range strings.Fields(s.Distribution) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("reading SCRAM report: sum-of-products %q: distribution: %w", s.Name, err)
			}
			sp.Distribution = append(sp.Distribution, n)
		}
		for _, p := range s.List {
			prod := Product{Order: p.Order}
			if p.Probability != "" {
				v, err := strconv.ParseFloat(p.Probability, 64)
				if err != nil {
					return nil, fmt.Errorf("reading SCRAM report: sum-of-products %q: product probability: %w", s.Name, err)
				}
				prod.Probability = v
			}
			for _, e := range p.Events {
				prod.Literals = append(prod.Literals, Literal{Event: e.Name})
			}
			for _, e := range p.Nots {
				prod.Literals = append(prod.Literals, Literal{Event: e.Name, Not: true})
			}
			sp.Products = append(sp.Products, prod)
		}
		if len(sp.Products) != sp.Count && len(sp.Products) != 0 {
			return nil, fmt.Errorf("reading SCRAM report: sum-of-products %q says %d products but lists %d", s.Name, sp.Count, len(sp.Products))
		}
		rep.Results = append(rep.Results, sp)
	}
	return rep, nil
}
