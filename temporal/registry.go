package temporal

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/upgrade"
)

// Builder builds, inside the worker process, the cluster and the planner
// that one Registry entry stands for: from the same constructors as the
// rest of the SDK (clavister.New, aviatrix.Open, upgradetest fakes, your
// own), with credentials the worker resolved itself (environment, files).
// Every activity calls it anew: a cluster is never shared between
// activities, and one that implements io.Closer is closed when its
// activity ends.
//
// j is the journal the activity's executor runs with: the records of this
// workflow run so far. Give it to planners that read the journal, such as
// clavister.Planner.Journal (it tells when an interrupted install began).
type Builder func(ctx context.Context, j upgrade.Journal) (upgrade.Cluster, upgrade.Planner, error)

// Registry maps the cluster references that workflow inputs carry
// (UpgradeInput.Ref) to the Builders of a worker. A workflow input names a
// cluster; only the worker knows how to reach it and with which
// credentials. The zero value is ready to use and safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Builder
}

// Register adds b under name. A name may be registered once; an empty name
// or a nil Builder is an error.
func (r *Registry) Register(name string, b Builder) error {
	if name == "" || b == nil {
		return fmt.Errorf("hitless/temporal: Register needs a name and a Builder (name %q)", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[name]; dup {
		return fmt.Errorf("hitless/temporal: %q is registered twice", name)
	}
	if r.m == nil {
		r.m = map[string]Builder{}
	}
	r.m[name] = b
	return nil
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// lookup returns the Builder of name, or an *upgrade.InvalidError
// listing the registered names.
func (r *Registry) lookup(name string) (Builder, error) {
	if r == nil {
		return nil, &upgrade.InvalidError{What: "cluster reference " + name, Problems: []string{"the worker has no Registry"}}
	}
	r.mu.RLock()
	b, ok := r.m[name]
	r.mu.RUnlock()
	if !ok {
		return nil, &upgrade.InvalidError{What: "cluster reference " + name, Problems: []string{
			fmt.Sprintf("this worker registers no cluster %q (it has: %s)", name, strings.Join(r.Names(), ", "))}}
	}
	return b, nil
}

// Clavister returns a Builder for a Clavister cOS Core HA pair: the pair
// opened with clavister.New(ctx, cfg) and planned by p, whose Cluster and
// Journal the Builder sets (p.GateTiming and p.RestoreRoles are kept).
// cfg holds the credentials; it stays in the worker.
func Clavister(cfg clavister.Config, p clavister.Planner) Builder {
	return func(ctx context.Context, j upgrade.Journal) (upgrade.Cluster, upgrade.Planner, error) {
		c, err := clavister.New(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		p.Cluster, p.Journal = c, j
		return c, p, nil
	}
}

// Aviatrix returns a Builder for an Aviatrix controller and its gateways:
// a client from aviatrix.NewClient(cfg), the inventory read with
// aviatrix.Open, and the Cluster as its own planner (Cluster.Plan, the
// upgrade.Planner form: controller first, one gateway per batch, HA members
// first, CatchUp set). cfg holds the credentials; it stays in the worker.
// For other batches (aviatrix.UpgradeRequest) write a Builder around
// Cluster.PlanUpgrade; it plans from the inventory read by Open rather
// than from the snapshot, so its later activities re-plan from the current
// state (see Activities.RunSteps).
func Aviatrix(cfg aviatrix.Config, opts aviatrix.ClusterOptions) Builder {
	return func(ctx context.Context, _ upgrade.Journal) (upgrade.Cluster, upgrade.Planner, error) {
		client, err := aviatrix.NewClient(cfg)
		if err != nil {
			return nil, nil, err
		}
		c, err := aviatrix.Open(ctx, client, opts)
		if err != nil {
			return nil, nil, err
		}
		return c, c, nil
	}
}

// Secret reads a credential in the worker process: the file named by the
// environment variable name+"_FILE" when that is set (the container
// secrets convention; one trailing newline is dropped), otherwise the
// environment variable name itself. An unset or empty secret is an error
// naming the variable, never the value. Pass the result to the vendor
// configuration and to Activities.Executor.Redact; it never goes into a
// workflow input.
func Secret(name string) (string, error) {
	if path := os.Getenv(name + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("hitless/temporal: secret %s_FILE: %w", name, err)
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if s == "" {
			return "", fmt.Errorf("hitless/temporal: secret %s_FILE names an empty file", name)
		}
		return s, nil
	}
	s := os.Getenv(name)
	if s == "" {
		return "", fmt.Errorf("hitless/temporal: secret %s is not set (nor %s_FILE)", name, name)
	}
	return s, nil
}
