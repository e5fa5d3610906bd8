package quality

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
)

// The vmaf_v0.6.1 model: a nu-SVR with an RBF kernel over six features. Its parameters are
// data from Netflix's libvmaf (model/vmaf_v0.6.1.json, BSD+Patent licence); see NOTICE.md.
//
//go:embed vmaf_v0.6.1.json
var vmafV061JSON []byte

// Model is a VMAF model: feature normalisation, support vectors, score transform and clip.
type Model struct {
	Name         string      `json:"name"`
	FeatureNames []string    `json:"feature_names"`
	Slopes       []float64   `json:"slopes"`
	Intercepts   []float64   `json:"intercepts"`
	Gamma        float64     `json:"gamma"`
	Rho          float64     `json:"rho"`
	SV           [][]float64 `json:"support_vectors"`
	Transform    struct {
		P0, P1, P2 float64
		OutGteIn   bool `json:"out_gte_in"`
	} `json:"score_transform"`
	Clip [2]float64 `json:"score_clip"`
}

// DefaultModelName is the model libvmaf's vmaf tool uses when none is given.
const DefaultModelName = "vmaf_v0.6.1"

// LoadModel returns the built-in model of the given name; only vmaf_v0.6.1 is built in.
func LoadModel(name string) (*Model, error) {
	if name != DefaultModelName {
		return nil, fmt.Errorf("%w: %q (built in: %s)", ErrUnknownModel, name, DefaultModelName)
	}
	var m Model
	if err := json.Unmarshal(vmafV061JSON, &m); err != nil {
		return nil, fmt.Errorf("quality: decoding built-in model: %w", err)
	}
	if len(m.Slopes) != len(m.FeatureNames)+1 || len(m.Intercepts) != len(m.Slopes) {
		return nil, fmt.Errorf("quality: built-in model is inconsistent")
	}
	for _, sv := range m.SV {
		if len(sv) != len(m.FeatureNames)+1 {
			return nil, fmt.Errorf("quality: built-in model has a support vector of %d values", len(sv))
		}
	}
	return &m, nil
}

// Predict maps the raw feature values (in FeatureNames order) to a VMAF score: linear
// rescale of each feature, the SVR, the inverse rescale and the clip to [0, 100]. When
// transform is set, the model's polynomial score transform (never below its input) is
// applied before the clip, as libvmaf does with the model option enable_transform (its
// "phone" variant); libvmaf leaves it off by default.
func (m *Model) Predict(features []float64, transform bool) float64 {
	n := len(m.FeatureNames)
	var x [16]float64
	for i := 0; i < n; i++ {
		x[i] = m.Slopes[i+1]*features[i] + m.Intercepts[i+1]
	}
	var sum float64
	for _, sv := range m.SV {
		var d float64
		for i := 0; i < n; i++ {
			t := x[i] - sv[i+1]
			d += t * t
		}
		sum += sv[0] * math.Exp(-m.Gamma*d)
	}
	p := sum - m.Rho
	p = (p - m.Intercepts[0]) / m.Slopes[0]
	y := p
	if transform {
		y = m.Transform.P0 + m.Transform.P1*p + m.Transform.P2*p*p
		if m.Transform.OutGteIn && y < p {
			y = p
		}
	}
	return math.Min(math.Max(y, m.Clip[0]), m.Clip[1])
}
