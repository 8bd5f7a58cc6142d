package aviatrix

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix/internal/memtransport"
	"github.com/hitless/hitless/upgrade"
)

// miniController answers the actions a rollback needs, for one classic
// pair on 6.6.5545 whose controller's previous version is 6.6.5224; a
// gateway write moves the gateway at once.
type miniController struct {
	mu       sync.Mutex
	versions map[string]string
	writes   []string
}

func (m *miniController) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	m.mu.Lock()
	defer m.mu.Unlock()
	reply := map[string]any{"return": true}
	switch r.Form.Get("action") {
	case "get_api_token":
		reply["results"] = map[string]any{"api_token": "tok"}
	case "login":
		reply["CID"] = "cid-1"
	case "list_version_info":
		reply["results"] = map[string]any{"current_version": "6.6.5545", "previous_version": "6.6.5224"}
	case "list_vpcs_summary":
		reply["results"] = []map[string]any{
			{"vpc_name": "a", "vpc_state": "up", "cloud_type": 1, "gw_software_version": m.versions["a"]},
			{"vpc_name": "a-hagw", "vpc_state": "up", "cloud_type": 1, "is_hagw": "yes", "primary_gw_name": "a", "gw_software_version": m.versions["a-hagw"]},
		}
	case "list_gateway_upgrade_status":
		reply["results"] = map[string]any{"gw_info": []map[string]any{
			{"name": "a", "vpc_state": "up", "update_status": "complete"}, {"name": "a-hagw", "vpc_state": "up", "update_status": "complete"}}}
	case "get_cloudn_backup_config":
		reply["results"] = map[string]any{"enabled": "yes"}
	case "upgrade_selected_gateway":
		n := r.Form.Get("gateway_list")
		m.writes = append(m.writes, n+"@"+r.Form.Get("version"))
		m.versions[n] = r.Form.Get("version")
	default:
		reply = map[string]any{"return": false, "reason": "Invalid action"}
	}
	_ = json.NewEncoder(w).Encode(reply)
}

// spyRollbacker records the Rollback calls made through the
// upgrade.Rollbacker interface and passes them on.
type spyRollbacker struct {
	upgrade.Member
	calls *[]string
}

func (s spyRollbacker) Rollback(ctx context.Context, to string) error {
	*s.calls = append(*s.calls, s.ID()+"@"+to)
	return s.Member.(upgrade.Rollbacker).Rollback(ctx, to)
}

// PlanRollback's steps roll each gateway back through its member's
// upgrade.Rollbacker (the core's rollback shape), one member of the pair
// at a time, not through a private path.
func TestRollbackStepsUseTheMembersRollbacker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctl := &miniController{versions: map[string]string{"a": "6.6.5545", "a-hagw": "6.6.5545"}}
		c, err := NewClient(Config{URL: "https://127.0.0.1", Username: "u", Password: "p", ReleaseListAction: NoReleaseListAction,
			Transport: &memtransport.Transport{Handler: ctl}})
		require.NoError(t, err)
		f, err := Open(t.Context(), c, ClusterOptions{Name: "mini"})
		require.NoError(t, err)
		var calls []string
		for i, m := range f.members {
			if m.ID() != ControllerID {
				f.members[i] = spyRollbacker{m, &calls}
			}
		}
		p, err := f.PlanRollback(RollbackRequest{})
		require.NoError(t, err)
		rep, err := (&upgrade.Executor{}).Run(t.Context(), f, p.Plan)
		require.NoError(t, err, rep.Markdown())
		assert.Equal(t, []string{"a-hagw@6.6.5224", "a@6.6.5224"}, calls)
		assert.Equal(t, []string{"a-hagw@6.6.5224", "a@6.6.5224"}, ctl.writes)
	})
}
