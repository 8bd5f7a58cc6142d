package aviatrix_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

const (
	awsImage   = "hvm-cloudx-aws-102021"
	azureImage = "hvm-cloudx-azure-102021"
	gcpImage   = "hvm-cloudx-gcp-102021"
	oldImage   = "hvm-cloudx-old-022020"
)

var targetImages = map[int]string{int(aviatrix.CloudAWS): awsImage, int(aviatrix.CloudAzure): azureImage, int(aviatrix.CloudGCP): gcpImage}

// onImage sets every gateway's gw_image_name.
func onImage(img string, gs []aviatrix.Gateway) []aviatrix.Gateway {
	for i := range gs {
		gs[i].Image = img
	}
	return gs
}

// imageFleet: 3 AWS pairs, an Azure group of 4 and one of 2, all on an old
// image, everything on the controller's version.
func imageFleet(t *testing.T, mods ...func([]aviatrix.Gateway)) *aviatrix.Cluster {
	t.Helper()
	const v = "6.6.5224"
	all := [][]aviatrix.Gateway{
		onImage(oldImage, pairOf("p1", v)), onImage(oldImage, pairOf("p2", v)), onImage(oldImage, groupOf("g1", 4, v)),
		onImage(oldImage, groupOf("g2", 2, v)), onImage(oldImage, pairOf("p3", v)),
	}
	for _, m := range mods {
		for _, gs := range all {
			m(gs)
		}
	}
	return fleetOf(t, v, "", all...)
}

// setImage returns a modifier putting the named gateways on img.
func setImage(img string, names ...string) func([]aviatrix.Gateway) {
	return func(gs []aviatrix.Gateway) {
		for i := range gs {
			for _, n := range names {
				if gs[i].Name == n {
					gs[i].Image = img
				}
			}
		}
	}
}

// checkImageBatches asserts the batch invariants: at most max per batch,
// never two members of one HA set together, HA members before their
// primary, every gateway in want exactly once.
func checkImageBatches(t *testing.T, f *aviatrix.Cluster, batches [][]string, maxPar, want int) {
	t.Helper()
	seen := map[string]int{}
	for bi, b := range batches {
		assert.LessOrEqual(t, len(b), maxPar, "batch %d", bi+1)
		sets := map[string]bool{}
		for _, n := range b {
			s, ok := f.SetOf(n)
			require.True(t, ok, n)
			assert.False(t, sets[s.Primary], "two members of %s in batch %d", s.Primary, bi+1)
			sets[s.Primary] = true
			_, dup := seen[n]
			assert.False(t, dup, "%s twice", n)
			seen[n] = bi
		}
	}
	assert.Len(t, seen, want)
	for _, s := range f.Sets() {
		for _, h := range s.HA {
			if _, ok := seen[h]; ok {
				assert.Less(t, seen[h], seen[s.Primary], "%s before %s", h, s.Primary)
			}
		}
	}
}

func TestPlanImageBatches(t *testing.T) {
	f := imageFleet(t)
	for _, tc := range []struct {
		par, max int
	}{{0, 1}, {1, 1}, {2, 2}, {3, 3}, {5, 5}} {
		p, err := f.PlanImageUpgrade(aviatrix.ImageRequest{Images: targetImages, BatchSize: tc.par})
		require.NoError(t, err, "BatchSize %d", tc.par)
		require.Len(t, p.Phases, 1)
		checkImageBatches(t, f, p.Phases[0].Batches, tc.max, 12)
		if tc.par == 0 {
			assert.Len(t, p.Phases[0].Batches, 12, "BatchSize 0 means one gateway at a time")
		}
		require.NoError(t, upgrade.ValidatePlan(f, p.Plan))
	}

	p, err := f.PlanImageUpgrade(aviatrix.ImageRequest{Images: targetImages, BatchSize: 3})
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"g1-1", "g2-1", "p1-hagw"}, {"p2-hagw", "p3-hagw"}, // HA members first…
		{"g1-2", "g2", "p1"}, {"p2", "p3"}, // …one member of a set per batch…
		{"g1-3"}, {"g1"}, // …the group's primary last.
	}, p.Phases[0].Batches)
	assert.Equal(t, "image", p.Kind)
	assert.Equal(t, "6.6.5224", p.From)
	assert.Equal(t, "6.6.5224", p.To)
	assert.Equal(t, targetImages, p.Images)
	assert.Equal(t, "image:6.6.5224[aws=hvm-cloudx-aws-102021,gcp=hvm-cloudx-gcp-102021,azure=hvm-cloudx-azure-102021]", p.Target)
	ids := p.StepIDs()
	require.Len(t, ids, 12)
	for i := 0; i < len(ids); i += 2 {
		assert.True(t, strings.HasPrefix(ids[i], "image@6.6.5224/b00"), ids[i])
		assert.Equal(t, "wait:"+ids[i], ids[i+1])
	}
	assert.Equal(t, []string{"g1-1", "g2-1", "p1-hagw"}, p.Steps[0].Disrupts())
	assert.Contains(t, p.Steps[0].Description(), azureImage)
	assert.Contains(t, p.Steps[0].Description(), awsImage)
	assert.Contains(t, p.Warnings[0], "replaces each gateway")
	assert.NotContains(t, strings.Join(p.Warnings, "\n"), "T2/T3", "no instance size known")

	// Deterministic.
	p2, err := f.PlanImageUpgrade(aviatrix.ImageRequest{Images: targetImages, BatchSize: 3})
	require.NoError(t, err)
	assert.Equal(t, p.Fingerprint(), p2.Fingerprint())
}

func TestPlanImageRefusals(t *testing.T) {
	lagging := fleetOf(t, "6.6.5545", "6.6.5224", pairOf("ok", "6.6.5545"), pairOf("late", "6.6.5224"),
		[]aviatrix.Gateway{gw("fast", "6.6.5545"), {Name: "fast-hagw", Version: "6.6.5224", IsHA: true, Primary: "fast", State: "up"}})
	withSolo := fleetOf(t, "6.6.5224", "", onImage(oldImage, pairOf("p1", "6.6.5224")), onImage(oldImage, []aviatrix.Gateway{gw("solo", "6.6.5224")}))
	for _, tc := range []struct {
		name string
		f    *aviatrix.Cluster
		req  aviatrix.ImageRequest
		want []error
	}{
		{"gateways not on the controller version", lagging, aviatrix.ImageRequest{Images: targetImages},
			[]error{versionpath.ErrGatewayNotConverged}},
		{"gateway ahead of the controller", fleetOf(t, "6.6.5224", "", pairOf("x", "6.6.5545")), aviatrix.ImageRequest{Images: targetImages},
			[]error{versionpath.ErrGatewayAhead}},
		{"BatchSize above 5 without Force", imageFleet(t), aviatrix.ImageRequest{Images: targetImages, BatchSize: 6}, []error{aviatrix.ErrConcurrency}},
		{"negative BatchSize", imageFleet(t), aviatrix.ImageRequest{Images: targetImages, BatchSize: -1}, []error{aviatrix.ErrConcurrency}},
		{"no image for a cloud", imageFleet(t), aviatrix.ImageRequest{Images: map[int]string{1: awsImage}}, []error{aviatrix.ErrImage}},
		{"malformed image", imageFleet(t), aviatrix.ImageRequest{Images: map[int]string{1: "a,b", 8: azureImage}}, []error{aviatrix.ErrImage}},
		{"bad cloud type key", imageFleet(t), aviatrix.ImageRequest{Images: map[int]string{0: awsImage, 1: awsImage, 8: azureImage}}, []error{aviatrix.ErrImage}},
		{"standalone without AllowOutage", withSolo, aviatrix.ImageRequest{Images: targetImages}, []error{aviatrix.ErrOutage}},
		{"explicit batch with both pair members", imageFleet(t), aviatrix.ImageRequest{Images: targetImages, BatchSize: 2,
			Batches: [][]string{{"p1-hagw", "p1"}}}, []error{aviatrix.ErrBadBatch}},
		{"explicit batch of two with BatchSize 0 (means 1)", imageFleet(t), aviatrix.ImageRequest{Images: targetImages,
			Batches: [][]string{{"p1-hagw", "p2-hagw"}, {"p1"}, {"p2"}}}, []error{aviatrix.ErrBadBatch}},
		{"standalone sharing a batch (AVX-36880)", withSolo, aviatrix.ImageRequest{Images: targetImages, AllowOutage: true, BatchSize: 2,
			Batches: [][]string{{"p1-hagw", "solo"}, {"p1"}}}, []error{aviatrix.ErrBadBatch}},
		{"primary before its HA member", imageFleet(t), aviatrix.ImageRequest{Images: targetImages,
			Groups: []aviatrix.Selector{{Names: []string{"p1"}}, {}}}, []error{aviatrix.ErrBadBatch}},
		{"8.x controller", fleetOf(t, "8.0.0-1000.2432", "", pairOf("x", "6.6.5224")), aviatrix.ImageRequest{}, []error{aviatrix.ErrUnsupportedVersion}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.f.PlanImageUpgrade(tc.req)
			require.Error(t, err)
			var pe *aviatrix.PlanError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, aviatrix.ErrPlan)
			assert.ErrorIs(t, err, upgrade.ErrInvalid)
			for _, w := range tc.want {
				assert.ErrorIs(t, err, w)
			}
			t.Log(err)
		})
	}

	// Every lagging gateway is listed at once, as typed violations.
	_, err := lagging.PlanImageUpgrade(aviatrix.ImageRequest{Images: targetImages})
	var vs versionpath.Violations
	require.ErrorAs(t, err, &vs)
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	assert.Equal(t, []string{"fast-hagw", "late", "late-hagw"}, names)
	assert.ErrorContains(t, err, "upgrade the software, then the image")
}

func TestPlanImageForceOutageAndWarnings(t *testing.T) {
	// Force accepts more than 5 at once, with a warning.
	f := fleetOf(t, "6.6.5224", "", pairOf("a", "6.6.5224"), pairOf("b", "6.6.5224"), pairOf("c", "6.6.5224"),
		pairOf("d", "6.6.5224"), pairOf("e", "6.6.5224"), pairOf("f", "6.6.5224"))
	p, err := f.PlanImageUpgrade(aviatrix.ImageRequest{Images: targetImages, BatchSize: 6, Force: true})
	require.NoError(t, err)
	assert.Len(t, p.Phases[0].Batches, 2)
	assert.Contains(t, strings.Join(p.Warnings, "\n"), "AVX-20159/43461/45567")

	// Standalone gateways: with AllowOutage each is alone in a downtime
	// step; one already on its target image needs nothing, even without
	// AllowOutage.
	f = fleetOf(t, "6.6.5224", "", onImage(oldImage, pairOf("p1", "6.6.5224")),
		onImage(oldImage, []aviatrix.Gateway{gw("solo-1", "6.6.5224"), gw("solo-2", "6.6.5224")}),
		onImage(awsImage, []aviatrix.Gateway{gw("solo-3", "6.6.5224")}))
	p, err = f.PlanImageUpgrade(aviatrix.ImageRequest{Images: targetImages, AllowOutage: true, BatchSize: 4})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"p1-hagw"}, {"p1"}, {"solo-1"}, {"solo-2"}}, p.Phases[0].Batches, "standalone gateways in batches of one (AVX-36880)")
	assert.Equal(t, []string{"solo-1", "solo-2"}, p.Outages)
	dd, ok := p.Steps[4].(upgrade.DowntimeDeclarer)
	require.True(t, ok)
	assert.True(t, dd.Downtime())
	assert.Contains(t, p.Render(), "[DOWNTIME]")
	_, err = f.PlanImageUpgrade(aviatrix.ImageRequest{Images: targetImages, Groups: []aviatrix.Selector{{Names: []string{"p1*", "solo-3"}}}})
	require.NoError(t, err, "solo-3 is already on its image: no outage to accept")

	// Several GCP gateways of one account (project) in a batch: warned.
	gcp := func(g *aviatrix.Gateway) { g.Cloud, g.Account, g.Size = aviatrix.CloudGCP, "gcp-prod", "n1-standard-1" }
	t3 := func(g *aviatrix.Gateway) { g.Size = "t3.medium" }
	f = fleetOf(t, "6.6.5224", "", pairOf("g-a", "6.6.5224", gcp), pairOf("g-b", "6.6.5224", gcp), pairOf("aws", "6.6.5224", t3))
	p, err = f.PlanImageUpgrade(aviatrix.ImageRequest{Images: targetImages, BatchSize: 3})
	require.NoError(t, err)
	all := strings.Join(p.Warnings, "\n")
	assert.Contains(t, all, "batch 1 replaces 2 GCP gateways of account gcp-prod")
	assert.Contains(t, all, "T2/T3 Unlimited")
	assert.Contains(t, all, "aws-hagw")
}

// Re-planning from a fresh inventory after part of the work yields a
// subsequence of the original step IDs (journal resume), skipping gateways
// already on their target image.
func TestPlanImageReplan(t *testing.T) {
	req := aviatrix.ImageRequest{Images: targetImages, BatchSize: 2}
	full, err := imageFleet(t).PlanImageUpgrade(req)
	require.NoError(t, err)
	mid, err := imageFleet(t, setImage(awsImage, "p1-hagw", "p2-hagw", "p3-hagw"), setImage(azureImage, "g1-1")).PlanImageUpgrade(req)
	require.NoError(t, err)
	assert.True(t, isSubsequence(mid.StepIDs(), full.StepIDs()), "%v\nnot in\n%v", mid.StepIDs(), full.StepIDs())
	assert.Less(t, len(mid.Steps), len(full.Steps))
	for _, s := range mid.Steps {
		for _, n := range s.Disrupts() {
			assert.NotContains(t, []string{"p1-hagw", "p2-hagw", "p3-hagw", "g1-1"}, n)
		}
	}
	checkImageBatches(t, imageFleet(t), mid.Phases[0].Batches, 2, 8)

	// Everything done: nothing left.
	done, err := imageFleet(t, func(gs []aviatrix.Gateway) {
		for i := range gs {
			gs[i].Image = targetImages[int(gs[i].Cloud)]
		}
	}).PlanImageUpgrade(req)
	require.NoError(t, err)
	assert.Empty(t, done.Steps)

	// Run-time resolution: the plan lists every selected gateway, under the
	// same step IDs, and says so.
	rt, err := imageFleet(t, setImage(awsImage, "p1-hagw")).PlanImageUpgrade(aviatrix.ImageRequest{BatchSize: 2})
	require.NoError(t, err)
	assert.Equal(t, full.StepIDs(), rt.StepIDs())
	assert.Equal(t, "image:6.6.5224[compatible]", rt.Target)
	assert.Nil(t, rt.Images)
	assert.Contains(t, rt.Warnings[1], "at run time")
	assert.Contains(t, rt.Steps[0].Description(), "compatible image")
}

func TestMemberImage(t *testing.T) {
	ms := aviatrix.GatewayState(aviatrix.Gateway{Name: "g", State: "up", UpdateStatus: "complete", Image: awsImage}, false)
	assert.Equal(t, "up/complete image="+awsImage, ms.Raw)
	assert.Equal(t, awsImage, aviatrix.MemberImage(ms))
	assert.True(t, ms.Healthy)
	assert.Empty(t, aviatrix.MemberImage(aviatrix.GatewayState(aviatrix.Gateway{Name: "g", State: "up"}, false)))
}

// expectedImage is the fake's compatible image for a gateway.
func expectedImage(t *testing.T, fleet *aviatrix.Cluster, name string) string {
	t.Helper()
	for _, g := range fleet.Inventory().Gateways {
		if g.Name == name {
			return aviatrixtest.DefaultImages()[int(g.Cloud)]
		}
	}
	t.Fatalf("no gateway %s", name)
	return ""
}

// The whole image upgrade of 4 AWS pairs and one Azure group of 3, three
// gateways at a time, resolving images at run time: every gateway ends on
// its cloud's compatible image, on the same software version, no pair ever
// loses a probe tick and no set ever has two members down together.
func TestEndToEndImageUpgrade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 4, func(o *aviatrixtest.Options) { o.Groups = 1 })
		_, fleet := open(t, fake)
		p, err := fleet.PlanImageUpgrade(aviatrix.ImageRequest{BatchSize: 3})
		require.NoError(t, err)
		checkImageBatches(t, fleet, p.Phases[0].Batches, 3, 11)
		rep, err := run(t, fleet, p.Plan, nil)
		require.NoError(t, err, rep.Markdown())
		assert.False(t, rep.Downtime)

		for _, n := range fake.GatewayNames() {
			assert.Equal(t, expectedImage(t, fleet, n), fake.GatewayImage(n), n)
			assert.Equal(t, "6.6.5545", fake.GatewayVersion(n), n)
			assert.Equal(t, []string{"complete", "upgrading", "downloading", "installing", "complete"}, fake.StatusHistory(n), n)
		}
		sum := fake.ProbeSummary()
		assert.Equal(t, 5, sum.Sets)
		assert.Equal(t, 0, sum.LostTicks, "per-pair probes: %+v", sum)
		assert.Zero(t, sum.Outage)
		assert.Greater(t, sum.Ticks, 5*240, "the probes ran through the whole run")
		for set, n := range fake.MaxDownBySet() {
			assert.Equal(t, 1, n, "HA set of %s: members down together", set)
		}
		kicks := map[string]int{}
		compat := 0
		for _, c := range fake.Calls() {
			switch c.Action {
			case "upgrade_selected_gateway":
				assert.Equal(t, "6.6.5545", c.Params["software_version"])
				assert.Equal(t, "6.6.5545", c.Params["version"])
				assert.Equal(t, expectedImage(t, fleet, c.Params["gateway_list"]), c.Params["image_version"])
				kicks[c.Params["gateway_list"]]++
			case "get_compatible_image_version":
				compat++
				assert.Equal(t, "POST", c.Method)
				assert.Equal(t, "6.6.5545", c.Params["software_version"])
			}
		}
		assert.Len(t, kicks, 11)
		for n, k := range kicks {
			assert.Equal(t, 1, k, n)
		}
		assert.Equal(t, 2, compat, "one get_compatible_image_version per software version and cloud (AWS, Azure)")

		// Idempotent re-planning: a fresh fleet with the controller's
		// images finds nothing to do; a run-time-resolved plan sends no write.
		_, fleet2 := open(t, fake)
		imgs, err := fleet2.CompatibleImages(t.Context())
		require.NoError(t, err)
		assert.Equal(t, map[int]string{1: "hvm-cloudx-aws-102021", 8: "hvm-cloudx-azure-102021"}, imgs)
		p2, err := fleet2.PlanImageUpgrade(aviatrix.ImageRequest{Images: imgs, BatchSize: 3})
		require.NoError(t, err)
		assert.Empty(t, p2.Steps)
		writes := len(fake.WriteCalls())
		p3, err := fleet2.PlanImageUpgrade(aviatrix.ImageRequest{BatchSize: 3})
		require.NoError(t, err)
		rep, err = run(t, fleet2, p3.Plan, nil)
		require.NoError(t, err, rep.Markdown())
		assert.Len(t, fake.WriteCalls(), writes, "gateways already on their image are skipped")
	})
}

// Cancelled between steps; a cut inside an image step is in
// TestResumeAfterCutMidStep.
func TestEndToEndImageResumeAfterCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 3)
		j := &upgrade.MemoryJournal{}
		_, fleet := open(t, fake)
		req := aviatrix.ImageRequest{BatchSize: 2}
		p, err := fleet.PlanImageUpgrade(req)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		finished := 0
		_, err = (&upgrade.Executor{Journal: j, OnEvent: func(e upgrade.Event) {
			if e.Kind == upgrade.EventStepFinish {
				if finished++; finished == 3 { // batch 1, its gate, batch 2: the crash hits before gate 2
					cancel()
				}
			}
		}}).Run(ctx, fleet, p.Plan)
		require.ErrorIs(t, err, upgrade.ErrStopped)

		// A new process: fresh inventory and Cluster (no remembered images),
		// same request, same journal.
		_, fleet2 := open(t, fake)
		p2, err := fleet2.PlanImageUpgrade(req)
		require.NoError(t, err)
		rep, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), fleet2, p2.Plan)
		require.NoError(t, err, rep.Markdown())
		kicks := map[string]int{}
		for _, w := range fake.WriteCalls() {
			kicks[w.Params["gateway_list"]]++
		}
		assert.Len(t, kicks, 6)
		for n, k := range kicks {
			assert.Equal(t, 1, k, n)
		}
		for _, n := range fake.GatewayNames() {
			assert.Equal(t, awsImage, fake.GatewayImage(n), n)
		}
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	})
}

func TestEndToEndImageFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 2, func(o *aviatrixtest.Options) { o.FailGateways = []string{"spoke-002-hagw"} })
		_, fleet := open(t, fake)
		p, err := fleet.PlanImageUpgrade(aviatrix.ImageRequest{Images: map[int]string{1: awsImage}, BatchSize: 2})
		require.NoError(t, err)
		_, err = run(t, fleet, p.Plan, nil)
		require.ErrorIs(t, err, aviatrix.ErrUpgradeFailed)
		var ue *aviatrix.UpgradeError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, "spoke-002-hagw", ue.Name)
		assert.Contains(t, ue.Target, awsImage)
		assert.Equal(t, aviatrixtest.StartImage(1), fake.GatewayImage("spoke-002-hagw"))
		assert.Equal(t, aviatrixtest.StartImage(1), fake.GatewayImage("spoke-002"), "primaries untouched after the failed batch")
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	})
}

// Refused image plans and refused hand-written image steps send nothing.
func TestImageRefusalsSendNoWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 3, func(o *aviatrixtest.Options) { o.PreviousVersion = "6.6.5224"; o.Standalone = 1 })
		fake.SetGatewayVersion("spoke-002-hagw", "6.6.5224") // rolled back
		_, fleet := open(t, fake)
		for _, req := range []aviatrix.ImageRequest{
			{Groups: []aviatrix.Selector{{Names: []string{"spoke-001*"}}}},
			{AllowOutage: true, BatchSize: 9},
		} {
			_, err := fleet.PlanImageUpgrade(req)
			require.ErrorIs(t, err, aviatrix.ErrPlan)
			require.ErrorIs(t, err, versionpath.ErrGatewayNotConverged)
			assert.ErrorContains(t, err, "spoke-002-hagw")
		}
		_, err := fleet.PlanImageUpgrade(aviatrix.ImageRequest{AllowOutage: true, BatchSize: 9})
		assert.ErrorIs(t, err, aviatrix.ErrConcurrency)

		// Hand-written steps: both members of a pair, the lagging gateway,
		// the standalone gateway.
		for _, names := range [][]string{{"spoke-001", "spoke-001-hagw"}, {"spoke-002-hagw"}, {"egress-01"}} {
			plan := hand(fleet, aviatrix.EndState{Version: "6.6.5545", Gateways: names, CompatibleImages: true}, fleet.GatewayImageSteps("6.6.5545", nil, 1, names...)...)
			_, err := run(t, fleet, plan, nil)
			require.ErrorIs(t, err, upgrade.ErrUnsafe, "%v", names)
			t.Log(err)
		}
		assert.Empty(t, fake.WriteCalls())
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	})
}

func TestCompatibleImageVersion(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.6.5545", 1, func(o *aviatrixtest.Options) { o.Images = map[int]string{8: "azure-custom-1"} })
	c := newClient(t, fake.ClientConfig())
	img, err := c.CompatibleImageVersion(t.Context(), "UserConnect-6.6.5545", 1)
	require.NoError(t, err)
	assert.Equal(t, awsImage, img)
	img, err = c.CompatibleImageVersion(t.Context(), "6.6.5545", 8)
	require.NoError(t, err)
	assert.Equal(t, "azure-custom-1", img)
	calls := fake.Calls()
	last := calls[len(calls)-1]
	assert.Equal(t, "POST", last.Method, "reads are POSTs by default")
	assert.False(t, last.CIDInURL)
	assert.Equal(t, map[string]string{"software_version": "6.6.5545", "cloud_type": "8"}, last.Params)

	// Refused by the controller: an *APIError; bad arguments: nothing sent.
	_, err = c.CompatibleImageVersion(t.Context(), "6.6.5545", 16)
	var ae *aviatrix.APIError
	require.ErrorAs(t, err, &ae)
	n := len(fake.Calls())
	_, err = c.CompatibleImageVersion(t.Context(), "6.6.5545", 0)
	assert.ErrorIs(t, err, aviatrix.ErrVersion)
	_, err = c.CompatibleImageVersion(t.Context(), "latest", 1)
	assert.ErrorIs(t, err, aviatrix.ErrVersion)
	assert.ErrorIs(t, c.UpgradeGatewayImage(t.Context(), []string{"spoke-001"}, "6.6.5545", "img,other"), aviatrix.ErrVersion)
	assert.ErrorIs(t, c.UpgradeGatewayImage(t.Context(), []string{"spoke-001"}, "6.6", awsImage), aviatrix.ErrVersion)
	assert.Len(t, fake.Calls(), n)

	// Every call but get_api_token is a POST; no CID ever rides in a URL
	// (Config.ReadsViaGET is gone: aviatrix.md §7 pitfall 8).
	for _, k := range fake.Calls() {
		assert.False(t, k.CIDInURL, k.Action)
		if k.Action != "get_api_token" {
			assert.Equal(t, "POST", k.Method, k.Action)
		}
	}
}
