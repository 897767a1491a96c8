package kubernetes

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// A group is the workloads one Service balances its traffic over, when
// it selects several: Bookinfo's reviews-v1, -v2 and -v3 behind Service
// reviews, a Deployment and its canary. They are one component, named
// after the Service, with the sum of their replicas: losing one of them
// loses a share of the pods, not the service.
type group struct {
	svc     *service
	members []*workload
}

// groupable reports whether w may share a component with other
// workloads: stateless pods that serve the same thing. A store's pods are
// not interchangeable (a primary and its replicas), nor are a DaemonSet's
// or a Job's.
func (ix *index) groupable(w *workload) bool {
	switch w.obj.Kind {
	case "Deployment", "StatefulSet", "ReplicaSet", "Pod":
	default:
		return false
	}
	return !ix.kind(w).Stateful() && w.mainContainer() != nil
}

// sameApp reports whether the workloads run the same application: the
// same main container name, or the same image repository.
func sameApp(ws []*workload) bool {
	name, repo := true, true
	for _, w := range ws[1:] {
		name = name && w.mainContainer().Name == ws[0].mainContainer().Name
		repo = repo && imageRepo(w.mainContainer().Image) == imageRepo(ws[0].mainContainer().Image)
	}
	return name || repo
}

// imageRepo is an image without its tag or digest.
func imageRepo(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		image = image[:i]
	}
	return image
}

// groups finds the Services that balance over several workloads of the
// same application and makes each set one component. A headless Service
// (clusterIP: None) addresses pods one by one, and balances nothing.
func (ix *index) groups() {
	for _, s := range ix.svcOrder {
		if s.spec.ClusterIP == "None" || s.spec.Type == "ExternalName" {
			continue
		}
		ws := ix.selected(s.obj.Meta.Namespace, s.spec.Selector)
		if len(ws) < 2 {
			continue
		}
		ok := true
		for _, w := range ws {
			ok = ok && w.group == nil && ix.groupable(w)
		}
		if !ok || !sameApp(ws) {
			continue
		}
		g := &group{svc: s, members: ws}
		for _, w := range ws {
			delete(ix.comps, w.comp)
		}
		name := s.obj.Meta.Name
		if ns := "." + ws[0].ns(); strings.HasSuffix(ws[0].comp, ns) && !strings.HasSuffix(name, ns) {
			name += ns
		}
		name = ix.unique(importer.Name(name))
		for _, w := range ws {
			w.group, w.comp = g, name
		}
	}
}

// leader reports whether w adds its component: every workload not in a
// group, and the first of each group.
func (w *workload) leader() bool { return w.group == nil || w.group.members[0] == w }

// groupComponent sets the replicas and description of a group's
// component from its members.
func groupComponent(c *model.Component, g *group) {
	var names, counts []string
	sum := 0
	for _, w := range g.members {
		n := w.replicas
		if w.zero {
			n = 0 // a canary scaled down
		}
		names = append(names, w.name())
		counts = append(counts, strconv.Itoa(n))
		sum += n
	}
	c.Replicas = max(sum, 1)
	c.Description = fmt.Sprintf("Service %s balances over %ss %s (%s replicas)", g.svc.obj.Meta.Name,
		g.members[0].obj.Kind, strings.Join(names, ", "), strings.Join(counts, " + "))
}

// routeEntries makes the workloads behind the Services that gateway
// routes send traffic to entry points: Gateway API routes attached to a
// Gateway, Istio VirtualServices bound to a gateway (not only to the
// mesh).
func (ix *index) routeEntries(b *importer.Builder) {
	for _, o := range ix.routes {
		spec := ix.route[o]
		var backends []routeBackend
		if o.Kind == "VirtualService" {
			if !boundToGateway(spec.Gateways) {
				continue // routes inside the mesh
			}
			for _, rs := range [][]istioRoute{spec.HTTP, spec.TCP, spec.TLS} {
				for _, r := range rs {
					for _, d := range r.Route {
						backends = append(backends, d.Destination)
					}
				}
			}
		} else {
			gateway := false
			for _, p := range spec.ParentRefs {
				gateway = gateway || p.Kind == "" || p.Kind == "Gateway"
			}
			if !gateway {
				continue // a mesh route (GAMMA: attached to a Service)
			}
			for _, r := range spec.Rules {
				for _, be := range r.BackendRefs {
					if be.Kind == "" || be.Kind == "Service" {
						backends = append(backends, be)
					}
				}
			}
		}
		for _, be := range backends {
			host := be.Host
			if host == "" && be.Name != "" {
				host = be.Name
				if be.Namespace != "" {
					host += "." + be.Namespace + ".svc"
				}
			}
			if host == "" {
				continue
			}
			targets, cluster := ix.resolve(b, host, o.Meta.Namespace, 0)
			if !cluster {
				continue
			}
			pos := model.Pos{File: o.Pos.File, Line: be.Line, Col: be.Col}
			for _, t := range targets {
				if b.Lookup(t) == nil || b.Lookup(t).Kind == model.KindExternal {
					continue
				}
				b.Entry(importer.Entry{Component: t, Pos: pos,
					Description: fmt.Sprintf("reached through %s %s (%s)", o.Kind, o.Meta.Name, host)})
				ix.entries++
			}
		}
	}
}

// boundToGateway reports whether a VirtualService's gateways name one
// besides the mesh.
func boundToGateway(gateways []string) bool {
	for _, g := range gateways {
		if g != "mesh" {
			return true
		}
	}
	return false
}
