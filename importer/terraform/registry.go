package terraform

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
	"github.com/zclconf/go-cty/cty"
)

// Registry modules whose source is not on disk are understood from their
// inputs: each gives the resources it would create, at the addresses it
// gives them (module.vpc.aws_nat_gateway.this[0]), so that the model is
// named the same from source as from a plan.

var registrySource = regexp.MustCompile(`(?:^|/)(terraform-aws-modules|cloudposse)/(?:terraform-aws-)?([a-z0-9-]+?)(?:/aws)?(?:\.git)?(?:\?.*)?$`)

// registryName returns which known module a source is: vpc, rds, ...
func registryName(source string) string {
	m := registrySource.FindStringSubmatch(strings.TrimPrefix(source, "git::"))
	if m == nil {
		return ""
	}
	name := m[2]
	if m[1] == "cloudposse" {
		if name == "elasticache-redis" {
			return "cloudposse-redis"
		}
		return ""
	}
	return name
}

// registry emits the resources of a known registry module call and
// returns its outputs.
func (r *reader) registry(call *moduleCall) (cty.Value, bool) {
	if managedModule(call.source) {
		return cty.DynamicVal, true // nothing in it can be a single point of failure
	}
	if strings.Contains(call.source, "//") && !strings.HasPrefix(call.source, "git::") {
		return cty.NilVal, false // a submodule: not one of the modules below
	}
	args := map[string]any{}
	for k, v := range call.args {
		args[k] = fromCty(v)
	}
	if create, ok := boolean(args["create"]); ok && !create {
		return cty.EmptyObjectVal, true
	}
	g := &gen{r: r, call: call, args: args}
	name := registryName(call.source)
	if name == "" && isLocal(call.source) {
		// An example of the module itself (source = "../../") read
		// without the module's source: its inputs say which it is.
		if name = moduleFromInputs(args); name != "" {
			r.b.Note(importer.Note{Pos: call.pos, Kind: importer.NoteAssumption, Subject: importer.Name(call.addr),
				Msg:  fmt.Sprintf("module source %q is not on disk: understood as terraform-aws-modules/%s from its inputs", call.source, name),
				Hint: "import the module with its source (the whole repository), or the plan (terraform show -json)"})
		}
	}
	switch name {
	case "vpc":
		return g.vpc(), true
	case "rds":
		return g.rds(), true
	case "rds-aurora":
		return g.aurora(), true
	case "elasticache":
		return g.elasticache(), true
	case "cloudposse-redis":
		return g.cloudposseRedis(), true
	case "eks":
		return g.eks(), true
	case "alb":
		return g.alb(), true
	case "autoscaling":
		return g.autoscaling(), true
	}
	return cty.NilVal, false
}

// gen emits the resources of one registry module call.
type gen struct {
	r    *reader
	call *moduleCall
	args map[string]any
}

// emit records a resource of the module; pos names the inputs that decide
// it (the first set is where its findings land).
func (g *gen) emit(local string, attrs map[string]any, decisive ...string) *resource {
	addr := g.call.addr + "." + local
	block := addr
	if i := strings.LastIndexByte(local, '['); i >= 0 && strings.HasSuffix(local, "]") {
		block = g.call.addr + "." + local[:i]
	}
	if _, ok := attrs["id"]; !ok {
		attrs["id"] = refOf(addr, "id")
	}
	if _, ok := attrs["arn"]; !ok {
		attrs["arn"] = refOf(addr, "arn")
	}
	typ := local
	if i := strings.IndexByte(local, '.'); i >= 0 {
		typ = local[:i]
	}
	if j := strings.LastIndex(local, ".aws_"); j >= 0 { // module.x.aws_y.z
		typ = local[j+1:]
		typ = typ[:strings.IndexByte(typ, '.')]
	}
	res := &resource{Addr: addr, Block: block, Type: typ, Attrs: attrs, Pos: g.call.pos,
		AttrPos: map[string]model.Pos{}, Counted: block != addr}
	for _, in := range decisive {
		if p, ok := g.call.argPos[in]; ok {
			res.Pos = p
			break
		}
	}
	g.r.resources = append(g.r.resources, res)
	return res
}

func (g *gen) boolArg(name string, def bool) bool {
	if b, ok := boolean(g.args[name]); ok {
		return b
	}
	return def
}

// listArg returns a list input; ok is false when it is unknown.
func (g *gen) listArg(name string) ([]any, bool) { return list(g.args[name]) }

// vpc: subnets in azs (round-robin), NAT gateways as single_nat_gateway,
// one_nat_gateway_per_az or one per subnet decide, and the private route
// tables that send each private subnet's egress to its NAT.
func (g *gen) vpc() cty.Value {
	if !g.boolArg("create_vpc", true) {
		return cty.EmptyObjectVal
	}
	tiers := []string{"public", "private", "database", "elasticache", "redshift", "intra"}
	counts := map[string]int{}
	for _, t := range tiers {
		l, ok := g.listArg(t + "_subnets")
		if !ok {
			g.r.assume(g.call.argPos[t+"_subnets"], g.call.addr, t+"_subnets is known only at apply time: none assumed")
		}
		counts[t] = len(l)
	}
	azs, ok := g.listArg("azs")
	if !ok || len(azs) == 0 {
		n := max(counts["private"], counts["public"], 1)
		azs = make([]any, n)
		base := g.call.argText["azs"]
		if base == "" {
			base = g.call.addr + ".azs"
		}
		for i := range azs {
			azs[i] = zoneOf(fmt.Sprintf("%s[%d]", base, i))
		}
	}
	for i, z := range azs {
		if _, ok := z.(string); !ok {
			azs[i] = zoneOf(fmt.Sprintf("%s.azs[%d]", g.call.addr, i))
		}
	}
	vpcAddr := g.call.addr + ".aws_vpc.this[0]"
	g.emit("aws_vpc.this[0]", map[string]any{})
	subnetIDs := map[string][]any{}
	for _, t := range tiers {
		for i := range counts[t] {
			s := g.emit(fmt.Sprintf("aws_subnet.%s[%d]", t, i), map[string]any{"availability_zone": azs[i%len(azs)],
				"vpc_id": refOf(vpcAddr, "id")})
			subnetIDs[t] = append(subnetIDs[t], s.Attrs["id"])
		}
	}
	single := g.boolArg("single_nat_gateway", false)
	perAZ := g.boolArg("one_nat_gateway_per_az", false)
	natCount := max(counts["private"], counts["database"], counts["elasticache"], counts["redshift"])
	switch {
	case single:
		natCount = 1
	case perAZ:
		natCount = len(azs)
	}
	var natIDs []any
	if g.boolArg("enable_nat_gateway", false) && counts["public"] > 0 {
		for i := range natCount {
			j := i
			if single {
				j = 0
			}
			n := g.emit(fmt.Sprintf("aws_nat_gateway.this[%d]", i), map[string]any{"subnet_id": subnetIDs["public"][j%counts["public"]]},
				"single_nat_gateway", "one_nat_gateway_per_az", "enable_nat_gateway")
			natIDs = append(natIDs, n.Attrs["id"])
		}
	}
	var tables []any
	if counts["private"] > 0 || counts["database"] > 0 || counts["elasticache"] > 0 {
		for i := range max(natCount, 1) {
			var routes []any
			if len(natIDs) > 0 {
				routes = []any{map[string]any{"cidr_block": "0.0.0.0/0", "nat_gateway_id": natIDs[i%len(natIDs)]}}
			}
			t := g.emit(fmt.Sprintf("aws_route_table.private[%d]", i), map[string]any{"route": routes})
			tables = append(tables, t.Attrs["id"])
		}
		for _, t := range []string{"private", "database", "elasticache", "redshift"} {
			for i, sid := range subnetIDs[t] {
				j := i
				if single {
					j = 0
				}
				g.emit(fmt.Sprintf("aws_route_table_association.%s[%d]", t, i), map[string]any{"subnet_id": sid,
					"route_table_id": tables[j%len(tables)]})
			}
		}
	}
	out := map[string]any{"vpc_id": refOf(vpcAddr, "id"), "azs": azs, "natgw_ids": orEmpty(natIDs),
		"private_route_table_ids": orEmpty(tables)}
	for _, t := range tiers {
		out[t+"_subnets"] = orEmpty(subnetIDs[t])
	}
	for _, t := range []string{"database", "elasticache", "redshift"} {
		out[t+"_subnet_group"] = refOf(g.call.addr+".aws_"+t+"_subnet_group."+t+"[0]", "id")
		out[t+"_subnet_group_name"] = refOf(g.call.addr+".aws_"+t+"_subnet_group."+t+"[0]", "name")
	}
	return toCty(out)
}

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// pick copies the named inputs that are set.
func (g *gen) pick(names ...string) map[string]any {
	out := map[string]any{}
	for _, n := range names {
		if v, ok := g.args[n]; ok && v != nil {
			out[n] = v
		}
	}
	return out
}

// rds: one aws_db_instance (multi_az, engine), in the db_instance
// submodule.
func (g *gen) rds() cty.Value {
	if !g.boolArg("create_db_instance", true) {
		return cty.EmptyObjectVal
	}
	attrs := g.pick("identifier", "engine", "engine_version", "multi_az", "availability_zone", "replicate_source_db", "instance_class")
	db := g.emit("module.db_instance.aws_db_instance.this[0]", attrs, "multi_az")
	db.AttrPos = g.call.argPos
	out := map[string]any{}
	for _, o := range []string{"address", "arn", "endpoint", "id", "identifier", "name", "resource_id", "port"} {
		out["db_instance_"+o] = refOf(db.Addr, o)
	}
	return toCty(out)
}

// aurora: an aws_rds_cluster and its instances (instances, or the older
// replica_count).
func (g *gen) aurora() cty.Value {
	cl := g.emit("aws_rds_cluster.this[0]", g.pick("cluster_identifier", "name", "engine", "engine_mode",
		"availability_zones", "db_cluster_instance_class"), "instances", "replica_count")
	cl.AttrPos = g.call.argPos
	inst, ok := g.args["instances"].(map[string]any)
	if !ok {
		if n, ok := number(g.args["replica_count"]); ok {
			inst = map[string]any{}
			for i := range int(n) {
				inst[fmt.Sprint(i)] = map[string]any{}
			}
		}
	}
	for _, k := range sortedKeys(inst) {
		a := map[string]any{"cluster_identifier": cl.Attrs["id"]}
		if az := attr(inst[k], "availability_zone"); az != nil {
			a["availability_zone"] = az
		}
		g.emit(fmt.Sprintf("aws_rds_cluster_instance.this[%q]", k), a)
	}
	out := map[string]any{}
	for _, o := range []string{"arn", "endpoint", "reader_endpoint", "id", "port", "database_name"} {
		out["cluster_"+o] = refOf(cl.Addr, o)
	}
	return toCty(out)
}

// elasticache: a replication group (or, with create_cluster and no
// replication group, one cluster).
func (g *gen) elasticache() cty.Value {
	if g.boolArg("create_cluster", false) && !g.boolArg("create_replication_group", true) {
		c := g.emit("aws_elasticache_cluster.this[0]", g.pick("cluster_id", "engine", "num_cache_nodes", "az_mode",
			"preferred_availability_zones", "availability_zone"), "num_cache_nodes")
		c.AttrPos = g.call.argPos
		return toCty(map[string]any{"cluster_arn": refOf(c.Addr, "arn"), "cluster_address": refOf(c.Addr, "address")})
	}
	attrs := g.pick("replication_group_id", "engine", "num_cache_clusters", "automatic_failover_enabled", "multi_az_enabled",
		"num_node_groups", "replicas_per_node_group", "preferred_cache_cluster_azs")
	if v, ok := boolean(g.args["cluster_mode_enabled"]); ok && v {
		if _, ok := attrs["num_node_groups"]; !ok {
			attrs["num_node_groups"] = 1.0
		}
		if _, ok := attrs["automatic_failover_enabled"]; !ok {
			attrs["automatic_failover_enabled"] = true
		}
	}
	rg := g.emit("aws_elasticache_replication_group.this[0]", attrs, "num_cache_clusters", "automatic_failover_enabled", "replicas_per_node_group")
	rg.AttrPos = g.call.argPos
	return toCty(map[string]any{"replication_group_arn": refOf(rg.Addr, "arn"), "replication_group_id": refOf(rg.Addr, "id"),
		"replication_group_primary_endpoint_address": refOf(rg.Addr, "primary_endpoint_address")})
}

// cloudposseRedis: cloudposse/elasticache-redis/aws (cluster_size).
func (g *gen) cloudposseRedis() cty.Value {
	attrs := g.pick("automatic_failover_enabled", "multi_az_enabled", "availability_zones")
	attrs["engine"] = "redis"
	if n, ok := number(g.args["cluster_size"]); ok {
		attrs["num_cache_clusters"] = n
	} else if g.args["cluster_size"] == nil {
		attrs["num_cache_clusters"] = 1.0
	}
	rg := g.emit("aws_elasticache_replication_group.default[0]", attrs, "cluster_size", "automatic_failover_enabled")
	rg.AttrPos = g.call.argPos
	return toCty(map[string]any{"id": refOf(rg.Addr, "id"), "arn": refOf(rg.Addr, "arn")})
}

// eks: the managed and self-managed node groups (their sizes and
// subnets); the control plane is managed and multi-AZ.
func (g *gen) eks() cty.Value {
	subnets := g.args["subnet_ids"]
	defaults := map[string]any{}
	if d, ok := g.args["eks_managed_node_group_defaults"].(map[string]any); ok {
		defaults = d
	}
	get := func(ng map[string]any, k string, def any) any {
		if v, ok := ng[k]; ok && v != nil {
			return v
		}
		if v, ok := defaults[k]; ok && v != nil {
			return v
		}
		return def
	}
	groups, _ := g.args["eks_managed_node_groups"].(map[string]any)
	for _, k := range sortedKeys(groups) {
		ng, _ := groups[k].(map[string]any)
		g.emit(fmt.Sprintf("module.eks_managed_node_group[%q].aws_eks_node_group.this[0]", k), map[string]any{
			"subnet_ids": get(ng, "subnet_ids", subnets),
			"scaling_config": []any{map[string]any{"min_size": get(ng, "min_size", 1.0), "desired_size": get(ng, "desired_size", 1.0),
				"max_size": get(ng, "max_size", 3.0)}},
		}, "eks_managed_node_groups")
	}
	self, _ := g.args["self_managed_node_groups"].(map[string]any)
	for _, k := range sortedKeys(self) {
		ng, _ := self[k].(map[string]any)
		g.emit(fmt.Sprintf("module.self_managed_node_group[%q].aws_autoscaling_group.this[0]", k), map[string]any{
			"vpc_zone_identifier": get(ng, "subnet_ids", subnets), "min_size": get(ng, "min_size", 0.0),
			"desired_capacity": get(ng, "desired_size", 1.0),
		}, "self_managed_node_groups")
	}
	return toCty(map[string]any{"cluster_name": g.args["cluster_name"], "cluster_endpoint": refOf(g.call.addr+".aws_eks_cluster.this[0]", "endpoint")})
}

// alb: the load balancer, its target groups (with their targets) and a
// listener forwarding to them.
func (g *gen) alb() cty.Value {
	if !g.boolArg("create_lb", true) {
		return cty.EmptyObjectVal
	}
	lb := g.emit("aws_lb.this[0]", g.pick("name", "load_balancer_type", "internal", "subnets", "subnet_mapping"), "internal", "subnets")
	lb.AttrPos = g.call.argPos
	tgs := map[string]any{}
	var tgARNs, actions []any
	var keys []string
	switch v := g.args["target_groups"].(type) {
	case map[string]any: // v9
		keys = sortedKeys(v)
		for _, k := range keys {
			tgs[k] = v[k]
		}
	case []any: // v8 and before
		for i, e := range v {
			k := fmt.Sprint(i)
			keys = append(keys, k)
			tgs[k] = e
		}
	}
	tgOut := map[string]any{}
	for _, k := range keys {
		tg := g.emit(fmt.Sprintf("aws_lb_target_group.this[%q]", k), map[string]any{})
		tgARNs = append(tgARNs, tg.Attrs["arn"])
		tgOut[k] = map[string]any{"arn": tg.Attrs["arn"], "id": tg.Attrs["id"], "name": refOf(tg.Addr, "name")}
		actions = append(actions, map[string]any{"type": "forward", "target_group_arn": tg.Attrs["arn"]})
		if t := attr(tgs[k], "target_id"); t != nil {
			g.emit(fmt.Sprintf("aws_lb_target_group_attachment.this[%q]", k), map[string]any{"target_group_arn": tg.Attrs["arn"], "target_id": t})
		}
		// v5 to v8: targets = { name = { target_id = ... } } (or a list).
		targets := map[string]any{}
		switch ts := attr(tgs[k], "targets").(type) {
		case map[string]any:
			targets = ts
		case []any:
			for i, t := range ts {
				targets[fmt.Sprint(i)] = t
			}
		}
		for _, tk := range sortedKeys(targets) {
			if t := attr(targets[tk], "target_id"); t != nil {
				g.emit(fmt.Sprintf("aws_lb_target_group_attachment.this[%q]", k+"."+tk),
					map[string]any{"target_group_arn": tg.Attrs["arn"], "target_id": t})
			}
		}
	}
	if len(actions) > 0 {
		g.emit("aws_lb_listener.this[\"default\"]", map[string]any{"load_balancer_arn": lb.Attrs["arn"], "default_action": actions})
	}
	return toCty(map[string]any{"arn": lb.Attrs["arn"], "id": lb.Attrs["id"], "dns_name": refOf(lb.Addr, "dns_name"),
		"zone_id": refOf(lb.Addr, "zone_id"), "lb_arn": lb.Attrs["arn"], "lb_dns_name": refOf(lb.Addr, "dns_name"),
		"lb_zone_id": refOf(lb.Addr, "zone_id"), "target_groups": tgOut, "target_group_arns": orEmpty(tgARNs)})
}

// autoscaling: one aws_autoscaling_group (min_size, subnets, target
// groups, traffic sources).
func (g *gen) autoscaling() cty.Value {
	attrs := g.pick("name", "min_size", "max_size", "desired_capacity", "vpc_zone_identifier", "availability_zones", "target_group_arns", "load_balancers")
	var tgs []any
	if l, ok := list(attrs["target_group_arns"]); ok {
		tgs = l
	}
	if ts, ok := g.args["traffic_source_attachments"].(map[string]any); ok {
		for _, k := range sortedKeys(ts) {
			if id := attr(ts[k], "traffic_source_identifier"); id != nil {
				tgs = append(tgs, id)
			}
		}
	}
	// v7: one traffic source, create_traffic_source_attachment.
	if id := g.args["traffic_source_identifier"]; id != nil && g.boolArg("create_traffic_source_attachment", false) {
		tgs = append(tgs, id)
	}
	attrs["target_group_arns"] = orEmpty(tgs)
	asg := g.emit("aws_autoscaling_group.this[0]", attrs, "min_size", "vpc_zone_identifier")
	asg.AttrPos = g.call.argPos
	return toCty(map[string]any{"autoscaling_group_name": refOf(asg.Addr, "name"), "autoscaling_group_arn": asg.Attrs["arn"],
		"autoscaling_group_id": asg.Attrs["id"]})
}

// isLocal tells a local module source (./x, ../x).
func isLocal(source string) bool {
	return strings.HasPrefix(source, "./") || strings.HasPrefix(source, "../")
}

// moduleFromInputs names the terraform-aws-modules module whose inputs a
// call gives, or "": the inputs that only that module takes.
func moduleFromInputs(args map[string]any) string {
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := args[n]; ok {
				return true
			}
		}
		return false
	}
	engine, _ := str(args["engine"])
	switch {
	case has("azs") && has("cidr", "private_subnets", "public_subnets", "database_subnets", "intra_subnets"):
		return "vpc"
	case has("eks_managed_node_groups", "self_managed_node_groups", "fargate_profiles", "cluster_version", "kubernetes_version",
		"cluster_endpoint_public_access", "endpoint_public_access"):
		return "eks"
	case has("node_type") && (has("replication_group_id", "cluster_id", "num_cache_clusters", "num_cache_nodes", "cluster_mode_enabled") ||
		engine == "redis" || engine == "valkey" || engine == "memcached"):
		return "elasticache"
	case strings.HasPrefix(engine, "aurora") || has("instances", "serverlessv2_scaling_configuration", "engine_mode", "cluster_members"):
		return "rds-aurora"
	case engine != "" && has("identifier", "allocated_storage", "instance_class", "replicate_source_db"), has("create_db_instance"):
		return "rds"
	case has("min_size") && has("max_size", "vpc_zone_identifier", "image_id", "launch_template_name", "launch_template_id"):
		return "autoscaling"
	case has("load_balancer_type", "listeners", "target_groups", "enable_deletion_protection") && has("subnets", "vpc_id", "subnet_mapping"),
		has("create_lb"):
		return "alb"
	}
	return ""
}

// managedModules are the terraform-aws-modules modules (and submodules)
// that create only configuration, identity or managed, regionally
// redundant services: no component, and no note either.
var managedModules = map[string]bool{
	"security-group": true, "iam": true, "s3-bucket": true, "kms": true, "acm": true, "sqs": true, "sns": true,
	"dynamodb-table": true, "lambda": true, "cloudwatch": true, "key-pair": true, "secrets-manager": true,
	"ssm-parameter": true, "ecr": true, "route53": true, "eventbridge": true, "step-functions": true,
	"apigateway-v2": true, "cloudfront": true, "vpc-endpoints": true, "vpc-flow-log": true, "kms-key": true,
	"ebs-optimized": true, "app-runner": true, "appsync": true, "s3-object": true, "notify-slack": true,
	"records": true, "zones": true, "delegation-sets": true, "resolver-endpoints": true, "pricing": true,
	"ecs-cluster": true, "cluster": true, "karpenter": true, "kms-iam": true, "user-group": true,
}

// managedModule tells a source that is one of managedModules: a registry
// module (terraform-aws-modules/iam/aws//modules/iam-role), or a local
// path to one (../../modules/vpc-endpoints).
func managedModule(source string) bool {
	s := strings.TrimSuffix(strings.TrimPrefix(source, "git::"), "/")
	if i := strings.Index(s, "?"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "//"); i >= 0 && !strings.Contains(s[:i], ":") {
		base := s[i+2:]
		base = base[strings.LastIndexByte(base, '/')+1:]
		if m := registrySource.FindStringSubmatch(s[:i]); m != nil && m[1] == "terraform-aws-modules" && managedModules[m[2]] {
			return true // terraform-aws-modules/cloudwatch/aws//modules/metric-alarm
		}
		return managedModules[base] || strings.HasPrefix(base, "iam-")
	}
	if isLocal(s) {
		base := s[strings.LastIndexByte(s, '/')+1:]
		return strings.Contains(s, "modules/") && (managedModules[base] || strings.HasPrefix(base, "iam-"))
	}
	if m := registrySource.FindStringSubmatch(s); m != nil && m[1] == "terraform-aws-modules" {
		return managedModules[m[2]]
	}
	return false
}
