package probe

import (
	"bytes"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/spofhq/spof/model"
)

// snippet renders components and hazards as spof.yaml sections, under a
// comment saying where they come from. The YAML encoder does all quoting.
func snippet(comment string, components []*model.Component, hazards []*model.Hazard) ([]byte, error) {
	top := &yaml.Node{Kind: yaml.MappingNode}
	if len(components) > 0 {
		section := &yaml.Node{Kind: yaml.MappingNode}
		for _, c := range components {
			section.Content = append(section.Content, str(c.Name), componentNode(c))
		}
		top.Content = append(top.Content, str("components"), section)
	}
	if len(hazards) > 0 {
		section := &yaml.Node{Kind: yaml.MappingNode}
		for _, h := range hazards {
			section.Content = append(section.Content, str(h.Name), hazardNode(h))
		}
		top.Content = append(top.Content, str("hazards"), section)
	}
	if len(top.Content) == 0 {
		return nil, nil
	}
	top.Content[0].HeadComment = comment
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{top}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// componentNode leaves defaults out (one replica, min_healthy 1, the
// kind's default failover).
func componentNode(c *model.Component) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, value *yaml.Node) { n.Content = append(n.Content, str(key), value) }
	add("kind", str(string(c.Kind)))
	if c.Description != "" {
		add("description", str(c.Description))
	}
	if c.Replicas > 1 {
		add("replicas", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(c.Replicas)})
	}
	if c.MinHealthy > 1 {
		add("min_healthy", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(c.MinHealthy)})
	}
	if c.Provider != "" {
		add("provider", str(c.Provider))
	}
	if c.Failover != "" && c.Failover != model.DefaultFailover(c.Kind) {
		add("failover", str(string(c.Failover)))
	}
	return n
}

func hazardNode(h *model.Hazard) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, value *yaml.Node) { n.Content = append(n.Content, str(key), value) }
	if h.Description != "" {
		add("description", str(h.Description))
	}
	breaks := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, b := range h.Breaks {
		breaks.Content = append(breaks.Content, str(b))
	}
	add("breaks", breaks)
	if h.Fix != "" {
		add("fix", str(h.Fix))
	}
	return n
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
