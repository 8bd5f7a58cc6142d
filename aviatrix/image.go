package aviatrix

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// MaxImageBatchSize is the largest ImageRequest.BatchSize accepted without
// ImageRequest.Force. Simultaneous image upgrades or rollbacks on many
// gateways, especially GCP gateways in one project, have failed
// (AVX-20159/43461/45567, Aviatrix release notes): the default is 1, and more
// than 5 at once is refused (ErrConcurrency) unless forced.
const MaxImageBatchSize = 5

// ImageRequest says what PlanImageUpgrade should do: replace the image of
// selected gateways, keeping their software version (which must already be
// the controller's).
type ImageRequest struct {
	// Groups selects the gateways, upgraded group by group in order (a
	// gateway belongs to the first group it matches); nil means every
	// gateway. Within a group: HA members first, then primaries, at most
	// BatchSize gateways per batch, never two members of one HA set in a
	// batch, gateways without an HA peer last, one per batch.
	Groups []Selector `json:"groups,omitempty"`
	// Batches, instead of Groups, gives the batches explicitly (gateway
	// names), validated like UpgradeRequest.Batches (*BatchError,
	// ErrBadBatch) and, unlike there, always against the effective
	// BatchSize (0 means 1): a batch of two needs BatchSize 2.
	Batches [][]string `json:"batches,omitempty"`
	// BatchSize is the number of gateways whose image is replaced at once
	// (members of different HA sets); 0 means 1. Above MaxImageBatchSize (5)
	// the plan is refused with ErrConcurrency unless Force is set:
	// simultaneous image upgrades/rollbacks on many gateways, especially GCP
	// in one project, have failed (AVX-20159/43461/45567).
	BatchSize int `json:"batch_size,omitempty"`
	// Force accepts BatchSize above MaxImageBatchSize (the plan then
	// carries a warning). It overrides nothing else.
	Force bool `json:"force,omitempty"`
	// Images maps cloud_type (CloudType as an int: AWS 1, GCP 4, Azure 8…)
	// to the target image_version. It must cover the cloud of every
	// selected gateway (ErrImage). The plan then skips gateways whose
	// gw_image_name already equals their target, so re-planning after a
	// partial run drops the finished work (same step IDs). Fill it with
	// Cluster.CompatibleImages to use the controller's compatible images.
	//
	// nil means: each step asks the controller at run time
	// (get_compatible_image_version with the gateway's software_version and
	// cloud_type, one call per version and cloud per Cluster) and skips
	// gateways already on the answer; the plan then lists every selected
	// gateway, since the targets are not known while planning.
	Images map[int]string `json:"images,omitempty"`
	// AllowOutage lets the plan replace the image of gateways without an
	// HA peer, each alone in a step that declares downtime (ErrOutage
	// otherwise). Standalone gateways are always alone in their batch
	// anyway: a batch image upgrade of non-ActiveMesh standalone gateways
	// fails if more than one has a peering (AVX-36880, Aviatrix release
	// notes).
	AllowOutage bool `json:"allow_outage,omitempty"`
}

// imageKey keys the controller's compatible-image answers.
type imageKey struct {
	version string
	cloud   CloudType
}

// PlanImageUpgrade plans gateway image upgrades (Aviatrix Docs, "Selective
// Gateway Upgrade", image upgrades): an
// image upgrade replaces the gateway (a brief disruption), so it is a
// separate operation from the software upgrade, with lower concurrency.
// For each batch: upgrade_selected_gateway with gateway_list,
// software_version = version = the controller's current version (which
// every gateway already runs) and image_version = the gateway's target
// image, one gateway per call; poll list_gateway_upgrade_status (as the
// software upgrade does) until each gateway is up, complete, on that
// version and reports its target image (gw_image_name); then a health gate.
// Batches come from the shared batch builder: HA/secondary members first,
// one member of an HA pair or group at a time, each step guarded by the
// per-set CheckPairs (the Cluster's upgrade.DisruptionChecker: another
// member of the set must forward); gateways
// without an HA peer only with AllowOutage (downtime declared), always in
// batches of one (AVX-36880).
//
// Planning is pure (no I/O; the pre-checks of Cluster.PreCheck run when an
// Executor runs the plan). Step IDs are "image@<version>/bNNN-<hash>" and
// "wait:image@…", where the hash covers the batch's full composition, so
// re-planning after a crash yields a subsequence of the original step IDs
// and the executor's journal resumes (the plan's Target, "image:<version>
// [<cloud>=<image>,…]" or "[compatible]", must match the journal's).
//
// Every problem is reported at once in a *PlanError: a gateway not on the
// controller's version (versionpath.Violations of
// versionpath.ErrGatewayNotConverged / ErrGatewayAhead, listing every such
// gateway: upgrade its software first, as Aviatrix Docs, "Selective Gateway
// Upgrade" require), unparseable
// or 8.x versions (ErrUnsupportedVersion), BatchSize < 0 or above
// MaxImageBatchSize without Force (ErrConcurrency), a cloud without a
// target image or a malformed one (ErrImage), explicit batches or groups
// that split an HA set wrongly (ErrBadBatch), gateways without an HA peer
// (ErrOutage).
func (f *Cluster) PlanImageUpgrade(req ImageRequest) (*DetailedPlan, error) {
	var probs []error
	cur, err := plannable("controller current version", f.inv.Controller.Current)
	if err != nil {
		probs = append(probs, err)
	}
	// Every gateway, HA and group members included, must already run the
	// controller's version (Aviatrix Docs, "Selective Gateway Upgrade").
	vf := versionpath.Deployment{Gateways: map[string]versionpath.Version{}}
	for _, n := range f.gatewayNames() {
		v, err := plannable("gateway "+n, f.inv.Gateways[f.gwIdx[n]].Version)
		if err != nil {
			probs = append(probs, err)
			continue
		}
		vf.Gateways[n] = v
	}
	if !cur.IsZero() {
		vf.Controller = cur
		if err := versionpath.CheckControllerHop(vf, cur); err != nil {
			probs = append(probs, fmt.Errorf("image upgrades need every gateway on the controller's version %s first (upgrade the software, then the image): %w", cur, err))
		}
	}

	maxPar := req.BatchSize
	switch {
	case maxPar < 0:
		probs = append(probs, fmt.Errorf("%w: BatchSize %d is negative", ErrConcurrency, maxPar))
		maxPar = 1
	case maxPar == 0:
		maxPar = 1
	case maxPar > MaxImageBatchSize && !req.Force:
		probs = append(probs, fmt.Errorf("%w: BatchSize %d exceeds %d: simultaneous image upgrades/rollbacks on many gateways, especially GCP in one project, have failed (AVX-20159/43461/45567); set Force to accept the risk",
			ErrConcurrency, maxPar, MaxImageBatchSize))
	}

	var images map[int]string
	if req.Images != nil {
		images = maps.Clone(req.Images)
		for _, ct := range slices.Sorted(maps.Keys(images)) {
			switch img := images[ct]; {
			case ct <= 0:
				probs = append(probs, fmt.Errorf("%w: Images[%d]: cloud_type must be a positive integer (AWS 1, GCP 4, Azure 8, …)", ErrImage, ct))
			case !ValidImageVersion(img):
				probs = append(probs, fmt.Errorf("%w: Images[%d] (%s): malformed image version %q", ErrImage, ct, CloudType(ct), limit(img, 64)))
			}
		}
	}

	// Standalone gateways are always alone in their batch; whether their
	// outage is accepted is decided below, for those with work to do.
	batches, solo, berrs := f.batches(req.Groups, req.Batches, maxPar, true)
	probs = append(probs, berrs...)

	need := map[string]bool{}
	missing := map[CloudType][]string{}
	for _, b := range batches {
		for _, n := range b.names {
			g := f.inv.Gateways[f.gwIdx[n]]
			if images == nil {
				need[n] = true
				continue
			}
			img, ok := images[int(g.Cloud)]
			if !ok {
				missing[g.Cloud] = append(missing[g.Cloud], n)
				continue
			}
			need[n] = !sameImage(g.Image, img)
		}
	}
	for _, ct := range slices.Sorted(maps.Keys(missing)) {
		probs = append(probs, fmt.Errorf("%w: no target image for cloud_type %d (%s), gateways %s: add Images[%d] (Cluster.CompatibleImages asks the controller), or leave Images nil to ask at run time",
			ErrImage, int(ct), ct, listNames(missing[ct]), int(ct)))
	}
	outages, oprobs := soloOutages(solo, need, req.AllowOutage)
	probs = append(probs, oprobs...)
	if len(probs) > 0 {
		return nil, &PlanError{What: "gateway image upgrade", Problems: probs}
	}

	v := cur.String()
	p := &DetailedPlan{Kind: "image", From: v, To: v, Images: images, Outages: outages}
	p.Plan = upgrade.Plan{Cluster: f.name, Target: imagePlanTarget(v, images)}
	ph := Phase{Version: v}
	for k, b := range batches {
		var rem []string
		for _, n := range b.names {
			if need[n] {
				rem = append(rem, n)
			}
		}
		if len(rem) == 0 {
			continue
		}
		ph.Batches = append(ph.Batches, rem)
		p.Steps = append(p.Steps, f.imageSteps(v, images, k+1, b, rem)...)
	}
	p.Phases = []Phase{ph}
	p.Warnings = f.imageWarnings(maxPar, images, ph.Batches, outages)
	// The end state: the controller on v, every selected gateway on v and
	// its target image, up and idle, each of their HA sets forwarding.
	var sel []string
	for _, b := range batches {
		sel = append(sel, b.names...)
	}
	slices.Sort(sel)
	p.EndState = EndState{Controller: v, Version: v, Gateways: sel, Images: images, CompatibleImages: images == nil}
	p.Converged = f.Converged(p.EndState)
	return p, nil
}

// imagePlanTarget renders an image plan's upgrade.Plan.Target:
// "image:<version>[aws=<image>,azure=<image>]" (clouds by cloud_type), or
// "image:<version>[compatible]" for run-time resolution.
func imagePlanTarget(v string, images map[int]string) string {
	if images == nil {
		return "image:" + v + "[compatible]"
	}
	parts := make([]string, 0, len(images))
	for _, ct := range slices.Sorted(maps.Keys(images)) {
		parts = append(parts, CloudType(ct).String()+"="+images[ct])
	}
	return "image:" + v + "[" + strings.Join(parts, ",") + "]"
}

// imageWarnings lists the documented caveats of an image plan.
func (f *Cluster) imageWarnings(maxPar int, images map[int]string, batches [][]string, outages []string) []string {
	w := []string{"an image upgrade replaces each gateway (brief disruption per gateway; its HA peer carries the traffic)"}
	if images == nil {
		w = append(w, "target images are asked of the controller at run time (get_compatible_image_version per software version and cloud type); "+
			"gateways already on them are skipped when their step runs, not by the plan (give ImageRequest.Images, e.g. from Cluster.CompatibleImages, to see them here)")
	}
	if maxPar > MaxImageBatchSize {
		w = append(w, fmt.Sprintf("BatchSize %d above %d (Force): simultaneous image upgrades/rollbacks on many gateways have failed (AVX-20159/43461/45567)", maxPar, MaxImageBatchSize))
	}
	var burst []string
	for i, b := range batches {
		gcp := map[string]int{}
		for _, n := range b {
			g := f.inv.Gateways[f.gwIdx[n]]
			if g.Cloud == CloudGCP {
				gcp[g.Account]++
			}
			if (g.Cloud == CloudAWS || g.Cloud == CloudAWSGov || g.Cloud == CloudAWSChina) &&
				(strings.HasPrefix(g.Size, "t2.") || strings.HasPrefix(g.Size, "t3.")) {
				burst = append(burst, n)
			}
		}
		for _, acct := range slices.Sorted(maps.Keys(gcp)) {
			if gcp[acct] > 1 {
				w = append(w, fmt.Sprintf("batch %d replaces %d GCP gateways of account %s at once: simultaneous image upgrades in one GCP project have failed (AVX-20159/43461/45567); consider BatchSize 1", i+1, gcp[acct], acct))
			}
		}
	}
	if len(burst) > 0 {
		w = append(w, fmt.Sprintf("AWS T2/T3 gateways (%s): run them with T2/T3 Unlimited for the image upgrade (a documented pre-check, not visible through the API)", listNames(burst)))
	}
	if len(outages) > 0 {
		w = append(w, fmt.Sprintf("%d gateway(s) without an HA peer: their image upgrade is an outage (%s)", len(outages), strings.Join(outages, ", ")))
	}
	return w
}

// CompatibleImages asks the controller which image goes with its current
// version (as read by Open) on each cloud type present in the Cluster:
// one get_compatible_image_version call per cloud type. It returns
// cloud_type -> image_version, ready for ImageRequest.Images, with every
// cloud answered even when another failed (the error then lists each
// failure). The answers are also remembered by the Cluster for image steps
// that resolve at run time.
func (f *Cluster) CompatibleImages(ctx context.Context) (map[int]string, error) {
	if err := f.needClient(); err != nil {
		return nil, err
	}
	v := f.inv.Controller.Current
	clouds := map[CloudType]bool{}
	for _, g := range f.inv.Gateways {
		clouds[g.Cloud] = true
	}
	out := map[int]string{}
	var errs []error
	for _, ct := range slices.Sorted(maps.Keys(clouds)) {
		img, err := f.imageFor(ctx, nil, v, ct)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[int(ct)] = img
	}
	return out, errors.Join(errs...)
}

// imageFor returns the target image of a gateway on software version v and
// cloud ct: from images when given, otherwise the controller's
// get_compatible_image_version answer, asked once per (v, ct) per Cluster.
func (f *Cluster) imageFor(ctx context.Context, images map[int]string, v string, ct CloudType) (string, error) {
	if img, ok := f.knownImage(images, v, ct); ok {
		return img, nil
	}
	if images != nil {
		return "", fmt.Errorf("%w: no target image for cloud_type %d (%s)", ErrImage, int(ct), ct)
	}
	if err := f.needClient(); err != nil {
		return "", err
	}
	img, err := f.c.CompatibleImageVersion(ctx, v, int(ct))
	if err != nil {
		return "", fmt.Errorf("%w: get_compatible_image_version for %s on %s: %w", ErrImage, ct, v, err)
	}
	f.mu.Lock()
	if f.compat == nil {
		f.compat = map[imageKey]string{}
	}
	f.compat[imageKey{canonical(v), ct}] = img
	f.mu.Unlock()
	return img, nil
}

// knownImage returns the target image without I/O: from images when given,
// otherwise from the controller's answers this Cluster has already had.
func (f *Cluster) knownImage(images map[int]string, v string, ct CloudType) (string, bool) {
	if images != nil {
		img, ok := images[int(ct)]
		return img, ok && ValidImageVersion(img)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	img, ok := f.compat[imageKey{canonical(v), ct}]
	return img, ok
}

// sameImage compares image names, ignoring case and surrounding blanks;
// an empty name matches nothing. That gw_image_name reports the same text
// that image_version takes is an inference from the provider (its gateway
// struct maps image_version to gw_image_name), not verified on a controller.
func sameImage(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}

// cloudOf returns a gateway's cloud type from the inventory.
func (f *Cluster) cloudOf(name string) CloudType {
	if i, ok := f.gwIdx[name]; ok {
		return f.inv.Gateways[i].Cloud
	}
	return 0
}

// GatewayImageSteps returns the steps that replace the image of the named
// gateways (one batch) at software version — the controller's current
// version, which they must already run — for hand-written plans; images
// is as ImageRequest.Images (nil: ask the controller at run time) and k
// numbers the batch in step IDs. See PlanImageUpgrade. The per-set guard
// (CheckPairs, the Cluster's upgrade.DisruptionChecker) refuses a batch
// holding two members of one HA set, or a
// gateway without an HA peer (hand-written steps never declare downtime).
func (f *Cluster) GatewayImageSteps(version string, images map[int]string, k int, names ...string) []upgrade.Step {
	return f.imageSteps(version, maps.Clone(images), k, batch{names: names}, names)
}

// imageSteps returns, for one batch:
//
//  1. "image@<v>/bNNN-<hash>": disrupts the batch's remaining gateways.
//     Safety check (upgrade.SafetyChecker, on the executor's fresh
//     snapshot): v is the controller's current version, and every gateway
//     of the batch runs it; the per-HA-set rule is the Cluster's
//     upgrade.DisruptionChecker (CheckPairs), applied by the executor's
//     guard. Run: re-read the controller and, except for outage steps,
//     re-apply CheckPairs to that read (*PairError); per
//     gateway, resolve its target image (images, or the controller's
//     compatible image), skip it when already there (or wait for an image
//     upgrade already running), otherwise upgrade_selected_gateway with
//     image_version (Client.UpgradeGatewayImage); then poll every
//     GatewayPoll until each is up, complete, on v and on its target image.
//     "upgrade_fail" fails at once (*UpgradeError, ErrUpgradeFailed);
//     GatewayDeadline fails with ErrTimeout. Verifiable (the same "done"
//     test, asking the controller for the target if needed); not
//     idempotent. A gateway without an HA peer (AllowOutage) gets a step
//     that declares downtime instead of the guard.
//  2. "wait:image@…": a health gate (Waits.Verify) until every gateway of
//     the batch is up, healthy, on v and, when its target is known without
//     I/O (images, or an answer this Cluster already had), on that image
//     (MemberImage). After a resume in a new process with run-time
//     resolution, the image itself was verified by step 1 before it
//     finished.
func (f *Cluster) imageSteps(v string, images map[int]string, k int, b batch, rem []string) []upgrade.Step {
	id := "image@" + v + "/" + stepKey(k, b.names)
	names := slices.Clone(rem)
	desc := fmt.Sprintf("replace the image of gateway(s) %s with %s, keeping %s (upgrade_selected_gateway image_version)", listNames(names), f.describeImages(images, names), v)
	if b.outage {
		desc += " [no HA peer: outage]"
	}
	run := &upgrade.Func{
		StepID:           id,
		Desc:             desc,
		Members:          names,
		Do:               func(ctx context.Context) error { return f.runImages(ctx, names, v, images, b.outage) },
		WholeClusterDown: b.outage,
		Check: func(ctx context.Context) (bool, error) {
			if err := f.needClient(); err != nil {
				return false, err
			}
			_, gws, err := f.read(ctx, callOpts{})
			if err != nil {
				return false, err
			}
			for _, n := range names {
				g := gws[n]
				if !gatewayDone(g, v) {
					return false, nil
				}
				img, err := f.imageFor(ctx, images, v, g.Cloud)
				if err != nil {
					return false, err
				}
				if !sameImage(g.Image, img) {
					return false, nil
				}
			}
			return true, nil
		},
		Safe: func(s upgrade.Snapshot) error {
			var errs []error
			vf, err := f.deployment(s, names)
			if err != nil {
				return err
			}
			tv, err := ParseVersion(v)
			switch {
			case err != nil:
				errs = append(errs, err)
			case tv.Compare(vf.Controller) != 0:
				errs = append(errs, fmt.Errorf("image step at software version %s, but the controller runs %s: %w", v, vf.Controller, versionpath.ErrGatewayTarget))
			}
			// next == current: every gateway of the batch on the
			// controller's version.
			if err := versionpath.CheckControllerHop(vf, vf.Controller); err != nil {
				errs = append(errs, fmt.Errorf("image upgrades need the gateways on the controller's version %s: %w", vf.Controller, err))
			}
			return errors.Join(errs...)
		},
	}
	wait := &upgrade.Wait{
		StepID:  "wait:" + id,
		Desc:    fmt.Sprintf("wait until %s %s up and healthy on %s with the new image", listNames(names), plural(len(names), "is", "are"), v),
		Cluster: f,
		G: upgrade.Gate{Name: "gateway images on " + v, Timing: f.timing.Verify, Check: func(s upgrade.Snapshot) error {
			var miss []string
			for _, n := range names {
				m, ok := f.member(s, n)
				if !ok {
					miss = append(miss, n+" not observed")
					continue
				}
				img, known := f.knownImage(images, v, f.cloudOf(n))
				switch {
				case strings.HasSuffix(memberStatus(m), "/upgrade_fail"):
					return fmt.Errorf("gateway %s: image upgrade failed (update_status upgrade_fail): %w", n, upgrade.ErrPermanent)
				case !sameVersion(m.Version, v):
					miss = append(miss, fmt.Sprintf("%s on %q", n, m.Version))
				case !m.Healthy || (m.Role != upgrade.RoleActive && m.Role != upgrade.RoleStandby):
					miss = append(miss, fmt.Sprintf("%s %s (%s)", n, m.Role, strings.Join(m.Problems, "; ")))
				case known && !sameImage(MemberImage(m), img):
					miss = append(miss, fmt.Sprintf("%s on image %q, want %s", n, MemberImage(m), img))
				}
			}
			if len(miss) > 0 {
				return errors.New(strings.Join(miss, ", "))
			}
			return nil
		}},
	}
	return []upgrade.Step{run, wait}
}

// describeImages names the target images of names for step descriptions.
func (f *Cluster) describeImages(images map[int]string, names []string) string {
	if images == nil {
		return "the controller's compatible image"
	}
	var out []string
	for _, n := range names {
		if img, ok := images[int(f.cloudOf(n))]; ok && !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		return "(no image)"
	}
	return strings.Join(out, ", ")
}

// runImages kicks and polls one image batch (as runGateways, with
// image_version).
func (f *Cluster) runImages(ctx context.Context, names []string, v string, images map[int]string, outage bool) error {
	if err := f.needClient(); err != nil {
		return err
	}
	deadline := time.Now().Add(f.timing.GatewayDeadline)
	info, gws, err := f.read(ctx, callOpts{})
	if err != nil {
		return err
	}
	// Re-check against the controller's answer right now (outage steps
	// bypass the executor's guard and safety check).
	if !sameVersion(info.Current, v) {
		return fmt.Errorf("gateways %s: image upgrade at software version %s, but the controller runs %q: %w", listNames(names), v, info.Current, versionpath.ErrGatewayTarget)
	}
	if !outage {
		if err := f.CheckPairs(f.snapshot(info, gws), names); err != nil {
			return fmt.Errorf("gateways %s: %w", listNames(names), err)
		}
	}
	targets := make(map[string]string, len(names))
	staleFail := map[string]bool{}
	for _, n := range names {
		g, ok := gws[n]
		if !ok {
			return fmt.Errorf("%w: gateway %s not in list_vpcs_summary", ErrInventory, n)
		}
		if !sameVersion(g.Version, v) {
			return fmt.Errorf("gateway %s runs %q, not the controller's %s (upgrade its software first): %w", n, g.Version, v, versionpath.ErrGatewayNotConverged)
		}
		img, err := f.imageFor(ctx, images, v, g.Cloud)
		if err != nil {
			return fmt.Errorf("gateway %s: %w", n, err)
		}
		targets[n] = img
		switch {
		case gatewayDone(g, v) && sameImage(g.Image, img):
			f.log.InfoContext(ctx, "aviatrix: gateway already on its target image", "gateway", n, "image", img)
			continue
		case upgradeRunning(strings.ToLower(g.UpdateStatus)):
			f.log.InfoContext(ctx, "aviatrix: gateway upgrade already running; waiting for it", "gateway", n)
			continue
		}
		staleFail[n] = strings.EqualFold(g.UpdateStatus, "upgrade_fail")
		if err := f.c.UpgradeGatewayImage(ctx, []string{n}, v, img); err != nil {
			return fmt.Errorf("gateway %s: %w", n, err)
		}
		f.log.InfoContext(ctx, "aviatrix: gateway image upgrade started", "gateway", n, "version", v, "from", g.Image, "to", img)
	}
	return f.pollBatch(ctx, names, staleFail, deadline,
		func(n string, g Gateway) bool { return gatewayDone(g, v) && sameImage(g.Image, targets[n]) },
		func(n string) string { return v + " image " + targets[n] })
}
