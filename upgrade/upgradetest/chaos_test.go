package upgradetest_test

import (
	"context"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
)

func TestProcessKilledAtAnAppendAndResumed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		j := &upgrade.MemoryJournal{}
		var outs []upgradetest.Outcome
		for run := 0; ; run++ {
			p := upgradetest.NewProcess(t.Context())
			c.BeginRun()
			snap, err := c.Observe(p.Context())
			require.NoError(t, err)
			plan, err := rolling(c).Plan(snap, "2.0")
			require.NoError(t, err)
			if run == 0 {
				p.KillAtAppend(5, plan) // plan, start+finish install b, start wait b: dies there
			}
			rep, err := (&upgrade.Executor{Journal: p.Journal(j)}).Run(p.Context(), c, plan)
			c.EndRun()
			outs = append(outs, upgradetest.Outcome{Report: rep, Err: err})
			dead, at := p.Killed()
			if !dead {
				require.NoError(t, err)
				break
			}
			assert.ErrorIs(t, err, upgradetest.ErrKilled)
			assert.ErrorIs(t, err, upgrade.ErrJournal)
			assert.Equal(t, 4, p.Appends())
			assert.False(t, at.IsZero())
			assert.Error(t, p.Context().Err(), "the process's context ends with it")
			_, lerr := p.Journal(j).Load(t.Context())
			assert.ErrorIs(t, lerr, upgradetest.ErrKilled)
		}
		assert.Len(t, outs, 2)
		assert.NoError(t, checker().Check(c, outs...))
		assert.Equal(t, 1, c.CountCalls("install", "b"), "the finished install is not repeated")
	})
}

// The steps of a batch append concurrently: a kill that would fall among
// them falls on the batch's first append, so nothing of the batch runs.
func TestProcessKillFallsOnABatchAsAWhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := upgradetest.NewCluster("fw", time.Second,
			&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, RebootDuration: time.Minute},
			&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
			&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
		)
		r := rolling(c)
		r.BatchSize = 2
		snap, err := c.Observe(t.Context())
		require.NoError(t, err)
		plan, err := r.Plan(snap, "2.0")
		require.NoError(t, err)
		for n := 2; n <= 5; n++ {
			p := upgradetest.NewProcess(t.Context())
			p.KillAtAppend(n, plan) // appends 2-5 are the batch's starts and finishes
			j := &upgrade.MemoryJournal{}
			_, err := (&upgrade.Executor{Journal: p.Journal(j)}).Run(p.Context(), c, plan)
			require.ErrorIs(t, err, upgradetest.ErrKilled, "kill at %d", n)
			recs, _ := j.Load(t.Context())
			assert.Len(t, recs, 1, "kill at %d: only the plan record", n)
		}
		assert.Zero(t, c.CountCalls("install", ""))
	})
}

func TestProcessKillAfterAndFileJournalLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		path := filepath.Join(t.TempDir(), "fw.journal")
		p := upgradetest.NewProcess(t.Context())
		stop := p.KillAfter(75*time.Second + 50*time.Millisecond) // inside the first gate, off its poll times
		defer stop()
		_, err := (&upgrade.Executor{Journal: p.Journal(&upgrade.FileJournal{Path: path})}).Upgrade(p.Context(), c, rolling(c), "2.0")
		require.ErrorIs(t, err, upgradetest.ErrKilled, "killed during the first gate: its outcome cannot be journaled")
		// A new process opens the file again: the dead one's lock is gone.
		p2 := upgradetest.NewProcess(t.Context())
		rep, err := (&upgrade.Executor{Journal: p2.Journal(&upgrade.FileJournal{Path: path})}).Upgrade(p2.Context(), c, rolling(c), "2.0")
		require.NoError(t, err, rep.Markdown())
		assert.Equal(t, 1, c.CountCalls("install", "b"))
	})
}

func TestProcessKillIsIdempotent(t *testing.T) {
	p := upgradetest.NewProcess(context.Background())
	p.Kill()
	_, at := p.Killed()
	p.Kill()
	_, at2 := p.Killed()
	assert.Equal(t, at, at2)
	assert.ErrorIs(t, p.Journal(&upgrade.MemoryJournal{}).Append(context.Background(), upgrade.Record{}), upgradetest.ErrKilled)
}
