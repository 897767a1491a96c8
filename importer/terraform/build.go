package terraform

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// modeler builds the model from the resource instances read.
type modeler struct {
	built      []*model.Component // every component made, in order
	r          *reader
	b          *importer.Builder
	byAddr     map[string]*resource
	byID       map[string]*resource
	comp       map[*resource]string // resource → the component it is part of
	tables     map[*resource][]*resource
	nats       map[*resource][]*resource // route table → NAT gateways its routes use
	workloads  []workload
	lbs        []*resource
	reached    map[string]bool // components a Route 53 record reaches
	unknown    map[string]int
	unknownPos map[string]model.Pos
	unknownOrd []string
}

// A workload runs in subnets: its egress goes through their NAT gateways.
type workload struct {
	name    string
	subnets []any
	pos     model.Pos
}

func (r *reader) build() {
	m := &modeler{r: r, b: r.b, byAddr: map[string]*resource{}, byID: map[string]*resource{}, comp: map[*resource]string{},
		tables: map[*resource][]*resource{}, nats: map[*resource][]*resource{}, reached: map[string]bool{},
		unknown: map[string]int{}, unknownPos: map[string]model.Pos{}}
	for _, res := range r.resources {
		if m.byAddr[res.Addr] != nil {
			continue
		}
		m.byAddr[res.Addr] = res
		for _, k := range []string{"id", "arn", "name", "identifier", "cluster_identifier", "replication_group_id"} {
			if s, ok := res.Attrs[k].(string); ok && s != "" && m.byID[s] == nil {
				m.byID[s] = res
			}
		}
	}
	m.network()
	for _, g := range m.blocks() {
		m.block(g)
	}
	m.readReplicas()
	m.egress()
	m.loadBalancers()
	m.records()
	m.entries()
	// One instance that may run in any of several zones (an autoscaling
	// group of one over three subnets) is in one of them at a time, and is
	// started in another when its zone fails: it is the single point of
	// failure, not the first zone of the list.
	for _, c := range m.built {
		if c.Replicas <= 1 && len(c.Zones) > 1 {
			c.Zones = nil
		}
	}
	for _, typ := range m.unknownOrd {
		n := m.unknown[typ]
		m.b.Note(importer.Note{Pos: m.unknownPos[typ], Kind: importer.NoteUnknownResource, Subject: typ,
			Msg:  fmt.Sprintf("%d resource%s of this type not modelled", n, plural(n)),
			Hint: "if it can fail on its own, add it to the model by hand (spof import --merge)"})
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// lookup returns the resource a reference names: an id, an ARN or a name
// from plan or state, or a placeholder from source.
func (m *modeler) lookup(v any) *resource {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil
	}
	if res := m.byID[s]; res != nil {
		return res
	}
	if a, ok := refAddr(s); ok {
		return m.byAddr[a]
	}
	return nil
}

// network links subnets to route tables and route tables to NAT gateways.
func (m *modeler) network() {
	for _, res := range m.byAddrOrdered() {
		switch res.Type {
		case "aws_route_table_association":
			s, t := m.lookup(res.Attrs["subnet_id"]), m.lookup(res.Attrs["route_table_id"])
			if s != nil && t != nil {
				m.tables[s] = append(m.tables[s], t)
			}
		case "aws_route_table":
			routes, _ := list(res.Attrs["route"])
			for _, rt := range routes {
				if n := m.lookup(attr(rt, "nat_gateway_id")); n != nil && n.Type == "aws_nat_gateway" {
					m.nats[res] = append(m.nats[res], n)
				}
			}
		case "aws_route":
			t, n := m.lookup(res.Attrs["route_table_id"]), m.lookup(res.Attrs["nat_gateway_id"])
			if t != nil && n != nil && n.Type == "aws_nat_gateway" {
				m.nats[t] = append(m.nats[t], n)
			}
		}
	}
}

func (m *modeler) byAddrOrdered() []*resource {
	out := make([]*resource, 0, len(m.byAddr))
	for _, res := range m.r.resources {
		if m.byAddr[res.Addr] == res {
			out = append(out, res)
		}
	}
	return out
}

// A group is the instances of one resource block.
type group struct {
	block string
	typ   string
	insts []*resource
}

func (m *modeler) blocks() []*group {
	var out []*group
	idx := map[string]*group{}
	for _, res := range m.byAddrOrdered() {
		g := idx[res.Block]
		if g == nil {
			g = &group{block: res.Block, typ: res.Type}
			idx[res.Block] = g
			out = append(out, g)
		}
		g.insts = append(g.insts, res)
	}
	return out
}

var (
	awsAZ   = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$`)
	gcpZone = regexp.MustCompile(`^([a-z]+-[a-z]+\d+)-[a-z]$`)
)

// zone declares and returns the zone a value names: a literal zone
// ("us-east-1a"), or a placeholder named after its expression
// ("local.azs[0]" ⇒ "local.azs-0"). "" when unknown.
func (m *modeler) zone(v any, pos model.Pos) string {
	s, ok := v.(string)
	if !ok || s == "" {
		return ""
	}
	region := m.r.region
	var name string
	if e, ok := strings.CutPrefix(s, zoneMark); ok {
		name = importer.Name(e)
	} else if strings.HasPrefix(s, "\x00") {
		return ""
	} else {
		name = importer.Name(s)
		if g := awsAZ.FindStringSubmatch(s); g != nil {
			region = g[1]
		} else if g := gcpZone.FindStringSubmatch(s); g != nil {
			region = g[1]
		}
	}
	m.b.Zone(name, region, pos)
	return name
}

// subnetZones returns the zones of subnets, in order, once each.
func (m *modeler) subnetZones(subnets []any, pos model.Pos) []string {
	var out []string
	for _, s := range subnets {
		sub := m.lookup(s)
		if sub == nil || sub.Type != "aws_subnet" {
			continue
		}
		if z := m.zone(sub.Attrs["availability_zone"], pos); z != "" && !slices.Contains(out, z) {
			out = append(out, z)
		}
	}
	return out
}

// zones returns the zones named by a list of zone values, once each.
func (m *modeler) zones(v any, pos model.Pos) []string {
	l, _ := list(v)
	var out []string
	for _, z := range l {
		if n := m.zone(z, pos); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// component adds the component of a resource block's instance.
func (m *modeler) component(res *resource, name string, kind model.Kind, pos model.Pos) *model.Component {
	c := m.b.Component(name, kind, pos)
	m.comp[res] = name
	m.built = append(m.built, c)
	return c
}

func setReplicas(c *model.Component, n int, failover model.Failover) {
	c.Replicas = max(n, 1)
	c.MinHealthy = 1
	if c.Replicas == 1 && failover == model.FailoverAutomatic {
		failover = model.FailoverNone // nothing to fail over to
	}
	c.Failover, c.FailoverSet = failover, true
}

// intOf returns a known whole number ≥ 0, or def.
func intOf(v any, def int) int {
	if n, ok := number(v); ok && n >= 0 {
		return int(n)
	}
	return def
}

func boolOf(v any, def bool) bool {
	if b, ok := boolean(v); ok {
		return b
	}
	return def
}

func strOf(v any) string {
	s, ok := str(v)
	if !ok || strings.HasPrefix(s, "\x00") {
		return ""
	}
	return s
}

// block models the instances of one resource block.
func (m *modeler) block(g *group) {
	switch g.typ {
	case "aws_nat_gateway", "aws_instance":
		m.replicated(g)
		return
	}
	for _, res := range g.insts {
		if !m.resource(res) {
			if ignored(res.Type) {
				continue
			}
			if m.unknown[res.Type] == 0 {
				m.unknownOrd = append(m.unknownOrd, res.Type)
				m.unknownPos[res.Type] = res.Pos
			}
			m.unknown[res.Type]++
		}
	}
}

// replicated models a block whose instances are replicas of one thing: a
// NAT gateway per zone, web servers from count.
func (m *modeler) replicated(g *group) {
	first := g.insts[0]
	name := importer.Name(first.Addr)
	if len(g.insts) > 1 {
		name = importer.Name(g.block)
	}
	var c *model.Component
	var zones []string
	var subnets []any
	for _, res := range g.insts {
		var z string
		switch res.Type {
		case "aws_nat_gateway":
			if c == nil {
				c = m.component(res, name, model.KindOther, res.Pos)
				c.Description = "NAT gateway: egress to the internet of the private subnets routed through it"
			}
			if zs := m.subnetZones([]any{res.Attrs["subnet_id"]}, res.Pos); len(zs) > 0 {
				z = zs[0]
			}
		case "aws_instance":
			if c == nil {
				c = m.component(res, name, model.KindService, res.Pos)
				// Not assumed to serve a port: a lone instance that no
				// load balancer reaches (a bastion, a runner) gets a low
				// flow of its own rather than a place on the user-facing
				// flows.
				c.Description = "EC2 instance"
				if len(g.insts) > 1 {
					c.Description = fmt.Sprintf("%d EC2 instances", len(g.insts))
				}
			}
			if zs := m.subnetZones([]any{res.Attrs["subnet_id"]}, res.Pos); len(zs) > 0 {
				z = zs[0]
			} else {
				z = m.zone(res.Attrs["availability_zone"], res.Pos)
			}
			subnets = append(subnets, res.Attrs["subnet_id"])
		}
		m.comp[res] = name
		if z != "" && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	setReplicas(c, len(g.insts), model.FailoverAutomatic)
	c.Zones = zones
	if len(subnets) > 0 {
		m.workloads = append(m.workloads, workload{name: name, subnets: subnets, pos: first.Pos})
	}
}

// resource models one instance; false when its type is not modelled here.
func (m *modeler) resource(res *resource) bool {
	a := res.Attrs
	name := importer.Name(res.Addr)
	switch res.Type {
	case "aws_db_instance":
		if a["replicate_source_db"] != nil {
			return true // a read replica: see readReplicas
		}
		c := m.component(res, name, model.KindDatabase, res.at("multi_az"))
		engine := strOf(a["engine"])
		if boolOf(a["multi_az"], false) {
			setReplicas(c, 2, model.FailoverAutomatic)
			c.Description = strings.TrimSpace(engine + " RDS instance, Multi-AZ (standby in another zone, automatic failover)")
		} else {
			c.Description = strings.TrimSpace(engine + " RDS instance, single-AZ (multi_az is not true): no standby")
			if z := m.zone(a["availability_zone"], res.Pos); z != "" {
				c.Zones = []string{z}
			}
		}
		m.b.ServesPort(name)
	case "aws_rds_cluster":
		m.rdsCluster(res, name)
	case "aws_rds_cluster_instance":
		if cl := m.lookup(a["cluster_identifier"]); cl != nil && cl.Type == "aws_rds_cluster" {
			return true // counted with its cluster
		}
		c := m.component(res, name, model.KindDatabase, res.Pos)
		c.Description = "RDS cluster instance (its cluster is not in the sources)"
		c.Zones = m.zones(a["availability_zone"], res.Pos)
		m.b.ServesPort(name)
	case "aws_elasticache_replication_group":
		m.replicationGroup(res, name)
	case "aws_elasticache_cluster":
		if a["replication_group_id"] != nil {
			return true // a member of a replication group, modelled there
		}
		c := m.component(res, name, model.KindCache, res.at("num_cache_nodes"))
		engine := strOf(a["engine"])
		if engine == "memcached" {
			n := intOf(a["num_cache_nodes"], 1)
			setReplicas(c, n, model.FailoverAutomatic)
			c.Description = fmt.Sprintf("memcached, %d node%s", n, plural(n))
			c.Zones = m.zones(a["preferred_availability_zones"], res.Pos)
		} else {
			c.Description = strings.TrimSpace(engine + " ElastiCache cluster: a single node")
			c.Zones = m.zones(a["availability_zone"], res.Pos)
		}
		m.b.ServesPort(name)
	case "aws_lb", "aws_alb", "aws_elb":
		c := m.component(res, name, model.KindLoadBalancer, res.Pos)
		subnets, _ := list(a["subnets"])
		maps, _ := list(a["subnet_mapping"])
		for _, sm := range maps {
			subnets = append(subnets, attr(sm, "subnet_id"))
		}
		zones := m.subnetZones(subnets, res.Pos)
		if len(zones) == 0 {
			zones = m.zones(a["availability_zones"], res.Pos)
		}
		n := max(len(zones), len(subnets))
		if n == 0 {
			n = 2 // subnets known only at apply time; an ALB needs two zones
		}
		setReplicas(c, n, model.FailoverAutomatic)
		c.Zones = zones
		typ := strOf(a["load_balancer_type"])
		if typ == "" {
			typ = "application"
			if res.Type == "aws_elb" {
				typ = "classic"
			}
		}
		c.Description = typ + " load balancer"
		if !boolOf(a["internal"], false) {
			c.Description = "internet-facing " + c.Description
		}
		m.lbs = append(m.lbs, res)
	case "aws_autoscaling_group":
		c := m.component(res, name, model.KindService, res.at("min_size"))
		n := intOf(a["min_size"], 0)
		if n < 1 {
			n = intOf(a["desired_capacity"], 1)
		}
		subnets, _ := list(a["vpc_zone_identifier"])
		setReplicas(c, n, model.FailoverAutomatic)
		c.Zones = m.subnetZones(subnets, res.Pos)
		if len(c.Zones) == 0 {
			c.Zones = m.zones(a["availability_zones"], res.Pos)
		}
		c.Description = fmt.Sprintf("autoscaling group, at least %d instance%s", n, plural(n))
		m.workloads = append(m.workloads, workload{name: name, subnets: subnets, pos: res.Pos})
	case "aws_eks_node_group":
		c := m.component(res, name, model.KindService, res.Pos)
		sc := attr(a, "scaling_config")
		n := intOf(attr(sc, "min_size"), 0)
		if n < 1 {
			n = intOf(attr(sc, "desired_size"), 1)
		}
		subnets, _ := list(a["subnet_ids"])
		setReplicas(c, n, model.FailoverAutomatic)
		c.Zones = m.subnetZones(subnets, res.Pos)
		c.Description = fmt.Sprintf("EKS managed node group, at least %d node%s", n, plural(n))
		m.workloads = append(m.workloads, workload{name: name, subnets: subnets, pos: res.Pos})
	case "aws_ecs_service":
		c := m.component(res, name, model.KindService, res.Pos)
		n := intOf(a["desired_count"], 1)
		subnets, _ := list(attr(a, "network_configuration", "subnets"))
		setReplicas(c, n, model.FailoverAutomatic)
		c.Zones = m.subnetZones(subnets, res.Pos)
		c.Description = fmt.Sprintf("ECS service, %d task%s", n, plural(n))
		m.workloads = append(m.workloads, workload{name: name, subnets: subnets, pos: res.Pos})
	case "aws_mq_broker":
		c := m.component(res, name, model.KindQueue, res.at("deployment_mode"))
		mode := strOf(a["deployment_mode"])
		switch mode {
		case "ACTIVE_STANDBY_MULTI_AZ":
			setReplicas(c, 2, model.FailoverAutomatic)
		case "CLUSTER_MULTI_AZ":
			setReplicas(c, 3, model.FailoverAutomatic)
		default:
			mode = "SINGLE_INSTANCE"
		}
		subnets, _ := list(a["subnet_ids"])
		c.Zones = m.subnetZones(subnets, res.Pos)
		c.Description = strings.TrimSpace(strOf(a["engine_type"]) + " Amazon MQ broker, " + mode)
		m.b.ServesPort(name)
	case "aws_msk_cluster":
		c := m.component(res, name, model.KindQueue, res.at("number_of_broker_nodes"))
		n := intOf(a["number_of_broker_nodes"], 1)
		subnets, _ := list(attr(a, "broker_node_group_info", "client_subnets"))
		setReplicas(c, n, model.FailoverAutomatic)
		c.Zones = m.subnetZones(subnets, res.Pos)
		c.Description = fmt.Sprintf("MSK Kafka cluster, %d broker%s", n, plural(n))
		m.b.ServesPort(name)
	case "aws_route53_record":
		// see records
	case "google_sql_database_instance":
		if a["master_instance_name"] != nil {
			return true // a read replica: see readReplicas
		}
		c := m.component(res, name, model.KindDatabase, res.at("settings.availability_type", "settings"))
		at := strOf(attr(a, "settings", "availability_type"))
		if at == "REGIONAL" {
			setReplicas(c, 2, model.FailoverAutomatic)
			c.Description = "Cloud SQL, REGIONAL (standby in another zone, automatic failover)"
		} else {
			c.Description = "Cloud SQL, ZONAL (no standby)"
			if z := m.zone(attr(a, "settings", "location_preference", "zone"), res.Pos); z != "" {
				c.Zones = []string{z}
			}
		}
		m.b.ServesPort(name)
	case "google_redis_instance":
		c := m.component(res, name, model.KindCache, res.at("tier"))
		if strOf(a["tier"]) == "STANDARD_HA" {
			setReplicas(c, 1+max(intOf(a["replica_count"], 1), 1), model.FailoverAutomatic)
			c.Description = "Memorystore Redis, STANDARD_HA"
			c.Zones = m.zones([]any{a["location_id"], a["alternative_location_id"]}, res.Pos)
		} else {
			c.Description = "Memorystore Redis, BASIC (a single node)"
			c.Zones = m.zones(a["location_id"], res.Pos)
		}
		m.b.ServesPort(name)
	case "google_compute_instance", "azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine", "azurerm_virtual_machine":
		c := m.component(res, name, model.KindService, res.Pos)
		c.Description = "virtual machine"
		c.Zones = m.zones(a["zone"], res.Pos)
		if strings.HasPrefix(res.Type, "azurerm") {
			c.Zones = m.azureZones(a, a["zone"], res.Pos)
		}
		m.b.ServesPort(name)
	case "google_compute_instance_group_manager", "google_compute_region_instance_group_manager":
		c := m.component(res, name, model.KindService, res.Pos)
		n := intOf(a["target_size"], 1)
		setReplicas(c, n, model.FailoverAutomatic)
		c.Zones = m.zones(a["zone"], res.Pos)
		if res.Type == "google_compute_region_instance_group_manager" {
			c.Zones = m.zones(a["distribution_policy_zones"], res.Pos)
		}
		c.Description = fmt.Sprintf("managed instance group, %d instance%s", n, plural(n))
		m.b.ServesPort(name)
	case "azurerm_mssql_database", "azurerm_sql_database", "azurerm_mssql_elasticpool":
		c := m.component(res, name, model.KindDatabase, res.at("zone_redundant"))
		if boolOf(a["zone_redundant"], false) {
			setReplicas(c, 3, model.FailoverAutomatic)
			c.Description = "Azure SQL, zone-redundant"
		} else {
			c.Failover, c.FailoverSet = model.FailoverAutomatic, true
			c.Description = "Azure SQL, not zone-redundant: one zone's outage takes it down"
		}
		m.b.ServesPort(name)
	case "azurerm_redis_cache":
		c := m.component(res, name, model.KindCache, res.at("sku_name"))
		sku := strOf(a["sku_name"])
		zones := m.azureZones(a, a["zones"], res.Pos)
		switch {
		case sku == "Basic":
			c.Description = "Azure Cache for Redis, Basic (a single node)"
		case len(zones) > 1:
			setReplicas(c, len(zones), model.FailoverAutomatic)
			c.Zones = zones
			c.Description = "Azure Cache for Redis, " + sku + ", zone-redundant"
		default:
			setReplicas(c, 2, model.FailoverAutomatic)
			c.Zones = zones
			c.Description = "Azure Cache for Redis, " + sku + " (primary and replica)"
		}
		m.b.ServesPort(name)
	case "azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server":
		c := m.component(res, name, model.KindDatabase, res.at("high_availability.mode", "high_availability"))
		mode := strOf(attr(a, "high_availability", "mode"))
		if mode != "" {
			setReplicas(c, 2, model.FailoverAutomatic)
			c.Description = "flexible server, high availability " + mode
			c.Zones = m.azureZones(a, []any{a["zone"], attr(a, "high_availability", "standby_availability_zone")}, res.Pos)
		} else {
			c.Description = "flexible server without high availability"
			c.Zones = m.azureZones(a, a["zone"], res.Pos)
		}
		m.b.ServesPort(name)
	default:
		return res.Type == "aws_subnet" || res.Type == "aws_route_table" || res.Type == "aws_route" ||
			res.Type == "aws_route_table_association"
	}
	return true
}

// azureZones names Azure zones ("1") after their location: westeurope-1.
func (m *modeler) azureZones(a map[string]any, v any, pos model.Pos) []string {
	loc := strOf(a["location"])
	l, _ := list(v)
	var out []any
	for _, z := range l {
		if s := strOf(z); s != "" {
			if loc != "" {
				s = loc + "-" + s
				m.b.Zone(importer.Name(s), loc, pos)
			}
			out = append(out, s)
		}
	}
	return m.zones(out, pos)
}

// rdsCluster models an Aurora (or Multi-AZ DB) cluster with its instances.
func (m *modeler) rdsCluster(res *resource, name string) {
	a := res.Attrs
	var insts []*resource
	for _, o := range m.byAddrOrdered() {
		if o.Type == "aws_rds_cluster_instance" && m.lookup(o.Attrs["cluster_identifier"]) == res {
			insts = append(insts, o)
		}
	}
	c := m.component(res, name, model.KindDatabase, res.at("instances", "replica_count"))
	engine := strOf(a["engine"])
	var zones []string
	for _, in := range insts {
		m.comp[in] = name
		if z := m.zone(in.Attrs["availability_zone"], in.Pos); z != "" && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	n := len(insts)
	switch {
	case n > 0:
		c.Description = fmt.Sprintf("%s cluster, %d instance%s", engine, n, plural(n))
	case a["db_cluster_instance_class"] != nil:
		n = 3
		c.Description = strings.TrimSpace(engine + " Multi-AZ DB cluster (a writer and two readers)")
	case strOf(a["engine_mode"]) == "serverless":
		n = 2
		c.Description = strings.TrimSpace(engine + " Aurora Serverless v1 (managed, moves to another zone)")
	default:
		n = 1
		m.r.assume(res.Pos, name, "no aws_rds_cluster_instance of this cluster in the sources: one instance assumed")
		c.Description = strings.TrimSpace(engine + " cluster, no instance found")
	}
	if len(zones) == 0 && n > 1 {
		zones = m.zones(a["availability_zones"], res.Pos)
	}
	failover := model.FailoverNone
	if n > 1 {
		failover = model.FailoverAutomatic
	}
	setReplicas(c, n, failover)
	c.Zones = zones
	m.b.ServesPort(name)
}

// replicationGroup models an ElastiCache replication group: its nodes per
// shard, and whether a replica takes over automatically.
func (m *modeler) replicationGroup(res *resource, name string) {
	a := res.Attrs
	c := m.component(res, name, model.KindCache, res.at("num_cache_clusters", "number_cache_clusters", "automatic_failover_enabled", "replicas_per_node_group"))
	auto := boolOf(a["automatic_failover_enabled"], false)
	var n int
	var desc string
	if a["num_node_groups"] != nil || a["replicas_per_node_group"] != nil {
		shards := intOf(a["num_node_groups"], 1)
		n = 1 + intOf(a["replicas_per_node_group"], 0)
		desc = fmt.Sprintf("cluster mode, %d shard%s of %d node%s", shards, plural(shards), n, plural(n))
	} else {
		def := 1
		if auto {
			def = 2
		}
		n = intOf(a["num_cache_clusters"], intOf(a["number_cache_clusters"], def))
		desc = fmt.Sprintf("%d node%s", n, plural(n))
	}
	failover := model.FailoverNone
	switch {
	case n > 1 && auto:
		failover = model.FailoverAutomatic
		desc += ", automatic failover"
	case n > 1:
		failover = model.FailoverManual
		desc += ", no automatic failover (automatic_failover_enabled is not set)"
	}
	setReplicas(c, n, failover)
	c.Zones = m.zones(a["preferred_cache_cluster_azs"], res.Pos)
	c.Description = strings.TrimSpace(strOf(a["engine"])+" ElastiCache replication group") + ", " + desc
	m.b.ServesPort(name)
}

// readReplicas counts read replicas with their primary: a replica can be
// promoted by hand, so a single-AZ primary with one is recoverable by
// manual failover.
func (m *modeler) readReplicas() {
	for _, res := range m.byAddrOrdered() {
		var src *resource
		switch res.Type {
		case "aws_db_instance":
			if res.Attrs["replicate_source_db"] == nil {
				continue
			}
			src = m.lookup(res.Attrs["replicate_source_db"])
		case "google_sql_database_instance":
			if res.Attrs["master_instance_name"] == nil {
				continue
			}
			src = m.lookup(res.Attrs["master_instance_name"])
		default:
			continue
		}
		name, ok := m.comp[src]
		if src == nil || !ok {
			// The primary is elsewhere: the replica is a database of its own.
			c := m.component(res, importer.Name(res.Addr), model.KindDatabase, res.Pos)
			c.Description = "read replica (its primary is not in the sources)"
			m.b.ServesPort(c.Name)
			continue
		}
		c := m.b.Lookup(name)
		c.Replicas++
		if c.Failover != model.FailoverAutomatic {
			c.Failover, c.FailoverSet = model.FailoverManual, true
			c.Description += "; a read replica can be promoted by hand"
		}
		m.comp[res] = name
	}
}

// egress gives each workload in private subnets an edge to the NAT
// gateways its subnets' routes use: one NAT serving several zones is a
// single point of failure for all of them.
func (m *modeler) egress() {
	for _, w := range m.workloads {
		var names []string
		for _, s := range w.subnets {
			sub := m.lookup(s)
			if sub == nil {
				continue
			}
			for _, t := range m.tables[sub] {
				for _, n := range m.nats[t] {
					if name, ok := m.comp[n]; ok && !slices.Contains(names, name) {
						names = append(names, name)
					}
				}
			}
		}
		switch len(names) {
		case 0:
		case 1:
			m.b.Edge(&model.Edge{From: w.name, To: names[0], Pos: w.pos})
		default:
			// Instances in different subnets egress through different
			// NAT gateways: losing one leaves the others.
			m.b.Edge(&model.Edge{From: w.name, To: names[0], FallbackTo: names[1],
				Fallback: "instances in other subnets keep their egress", Pos: w.pos})
		}
	}
}

// loadBalancers links each load balancer to its targets through listeners
// and target groups.
func (m *modeler) loadBalancers() {
	tgTargets := map[*resource][]string{} // target group (or classic ELB) → target components
	addTarget := func(tg *resource, target string) {
		if tg != nil && target != "" && !slices.Contains(tgTargets[tg], target) {
			tgTargets[tg] = append(tgTargets[tg], target)
		}
	}
	lbTGs := map[*resource][]*resource{}
	listenerLB := map[*resource]*resource{}
	actionTGs := func(actions any) []*resource {
		var out []*resource
		l, _ := list(actions)
		for _, act := range l {
			if tg := m.lookup(attr(act, "target_group_arn")); tg != nil {
				out = append(out, tg)
			}
			fw, _ := list(attr(act, "forward"))
			for _, f := range fw {
				tgs, _ := list(attr(f, "target_group"))
				for _, t := range tgs {
					if tg := m.lookup(attr(t, "arn")); tg != nil {
						out = append(out, tg)
					}
				}
			}
		}
		return out
	}
	all := m.byAddrOrdered()
	for _, res := range all {
		a := res.Attrs
		switch res.Type {
		case "aws_lb_listener":
			if lb := m.lookup(a["load_balancer_arn"]); lb != nil {
				listenerLB[res] = lb
				lbTGs[lb] = append(lbTGs[lb], actionTGs(a["default_action"])...)
			}
		case "aws_lb_target_group_attachment":
			if t := m.lookup(a["target_id"]); t != nil {
				addTarget(m.lookup(a["target_group_arn"]), m.comp[t])
			}
		case "aws_autoscaling_group", "aws_ecs_service":
			tgs, _ := list(a["target_group_arns"])
			ts, _ := list(a["traffic_source"])
			for _, t := range ts {
				tgs = append(tgs, attr(t, "identifier"))
			}
			lbs, _ := list(a["load_balancer"])
			for _, l := range lbs {
				tgs = append(tgs, attr(l, "target_group_arn"), attr(l, "elb_name"))
			}
			names, _ := list(a["load_balancers"])
			tgs = append(tgs, names...)
			for _, tg := range tgs {
				addTarget(m.lookup(tg), m.comp[res])
			}
		case "aws_autoscaling_attachment", "aws_autoscaling_traffic_source_attachment":
			asg := m.lookup(a["autoscaling_group_name"])
			if asg == nil {
				continue
			}
			for _, tg := range []any{a["lb_target_group_arn"], a["alb_target_group_arn"], a["elb"], attr(a, "traffic_source", "identifier")} {
				addTarget(m.lookup(tg), m.comp[asg])
			}
		case "aws_elb":
			insts, _ := list(a["instances"])
			for _, i := range insts {
				if t := m.lookup(i); t != nil {
					addTarget(res, m.comp[t])
				}
			}
		}
	}
	for _, res := range all {
		if res.Type == "aws_lb_listener_rule" {
			if lb := listenerLB[m.lookup(res.Attrs["listener_arn"])]; lb != nil {
				lbTGs[lb] = append(lbTGs[lb], actionTGs(res.Attrs["action"])...)
			}
		}
	}
	for _, lb := range m.lbs {
		from := m.comp[lb]
		tgs := append([]*resource{lb}, lbTGs[lb]...)
		for _, tg := range tgs {
			for _, t := range tgTargets[tg] {
				m.b.Edge(&model.Edge{From: from, To: t, Pos: lb.Pos})
			}
		}
	}
}

// records models Route 53 records that point at a modelled load balancer
// (alias or value): each is an entry point, managed by Route 53 (not a
// single point of failure itself). Failover records with a health check
// fall back to their secondary.
func (m *modeler) records() {
	type rec struct {
		res     *resource
		targets []string
		role    string // PRIMARY, SECONDARY or ""
		checked bool
		recName string
	}
	var order []string
	byName := map[string][]*rec{}
	for _, res := range m.byAddrOrdered() {
		if res.Type != "aws_route53_record" {
			continue
		}
		a := res.Attrs
		var targets []string
		vals, _ := list(a["records"])
		vals = append(vals, attr(a, "alias", "name"))
		for _, v := range vals {
			if t := m.lookup(v); t != nil {
				if name, ok := m.comp[t]; ok && !slices.Contains(targets, name) {
					targets = append(targets, name)
				}
			}
		}
		if len(targets) == 0 {
			continue
		}
		rn := strOf(a["name"])
		key := rn + " " + strOf(a["type"]) + " " + strOf(a["zone_id"])
		if rn == "" {
			key = res.Addr
		}
		r := &rec{res: res, targets: targets, recName: rn, role: strOf(attr(a, "failover_routing_policy", "type")),
			checked: a["health_check_id"] != nil || boolOf(attr(a, "alias", "evaluate_target_health"), false)}
		if byName[key] == nil {
			order = append(order, key)
		}
		byName[key] = append(byName[key], r)
	}
	for _, key := range order {
		recs := byName[key]
		slices.SortStableFunc(recs, func(x, y *rec) int {
			return strings.Compare(roleRank(x.role), roleRank(y.role))
		})
		first := recs[0]
		name := importer.Name(first.res.Addr)
		c := m.component(first.res, name, model.KindDNS, first.res.Pos)
		setReplicas(c, 2, model.FailoverAutomatic)
		label := first.recName
		if label == "" {
			label = first.res.Addr
		}
		c.Description = "Route 53 record " + label + " (managed, answered from many locations)"
		var targets []string
		// Failover routing needs a health check on the primary only;
		// other policies on every record.
		checked := true
		for _, r := range recs {
			m.comp[r.res] = name
			if r.role != "SECONDARY" {
				checked = checked && r.checked
			}
			for _, t := range r.targets {
				if !slices.Contains(targets, t) {
					targets = append(targets, t)
				}
			}
		}
		for _, t := range targets {
			m.reached[t] = true
		}
		switch {
		case len(targets) > 1 && checked:
			m.b.Edge(&model.Edge{From: name, To: targets[0], FallbackTo: targets[1],
				Fallback: "Route 53 health checks move traffic to " + targets[1], Pos: first.res.Pos})
		default:
			if len(targets) > 1 {
				m.b.Note(importer.Note{Pos: first.res.Pos, Kind: importer.NoteAssumption, Subject: name,
					Msg:  "several targets without health checks: Route 53 keeps sending traffic to a failed one",
					Hint: "set health_check_id (or alias evaluate_target_health = true) on each record"})
			}
			for _, t := range targets {
				m.b.Edge(&model.Edge{From: name, To: t, Pos: first.res.Pos})
			}
		}
		m.b.Entry(importer.Entry{Component: name, Pos: first.res.Pos, Description: "DNS name " + label + " (Route 53)"})
	}
}

func roleRank(role string) string {
	switch role {
	case "PRIMARY":
		return "0"
	case "SECONDARY":
		return "2"
	}
	return "1"
}

// entries makes internet-facing load balancers no record reaches entry
// points.
func (m *modeler) entries() {
	for _, lb := range m.lbs {
		name := m.comp[lb]
		if m.reached[name] || boolOf(lb.Attrs["internal"], false) {
			continue
		}
		m.b.Entry(importer.Entry{Component: name, Pos: lb.Pos, Description: m.b.Lookup(name).Description})
	}
}
