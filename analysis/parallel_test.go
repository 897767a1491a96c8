package analysis

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/internal/gen"
	"github.com/spofhq/spof/model"
)

// TestParallelMatchesSequential: evaluating the events on several
// goroutines gives the result of one, checklist included, on generated
// estates and on random and chainy models (fused heads among the jobs).
func TestParallelMatchesSequential(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	var models []*model.Model
	for _, o := range []gen.Options{{Components: 2000, Flows: 30, Seed: 5}, {Components: 500, Zones: 4, Seed: 9}} {
		m, err := gen.Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	for seed := range 100 {
		models = append(models, randomModel(rand.New(rand.NewPCG(uint64(seed), 17))))
		models = append(models, chainyModel(rand.New(rand.NewPCG(uint64(seed), 19))))
	}
	saved := parallelJobs
	defer func() { parallelJobs = saved }()
	for i, m := range models {
		parallelJobs = 1 << 30
		want, err := Check(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		parallelJobs = 1
		got, err := Check(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("model %d: parallel result differs (-sequential +parallel):\n%s", i, diff)
		}
	}
}
