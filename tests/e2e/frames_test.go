package e2e

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// fieldKind is what a frame field must hold, in Go SDK terms.
type fieldKind int

const (
	kString       fieldKind = iota // string (or *string)
	kNumber                        // any numeric type, nullable or not
	kBool                          // bool (or *bool)
	kTime                          // time.Time, not nullable
	kNullableTime                  // *time.Time
	kAnyTime                       // time.Time or *time.Time
)

func (k fieldKind) String() string {
	return [...]string{"string", "number", "bool", "time.Time", "*time.Time", "time"}[k]
}

func (k fieldKind) accepts(ft data.FieldType) bool {
	switch k {
	case kString:
		return isStringType(ft)
	case kNumber:
		return ft.Numeric()
	case kBool:
		return ft == data.FieldTypeBool || ft == data.FieldTypeNullableBool
	case kTime:
		return ft == data.FieldTypeTime
	case kNullableTime:
		return ft == data.FieldTypeNullableTime
	case kAnyTime:
		return ft.Time()
	}
	return false
}

// fieldSpec names a field and its kind; checkFields fails for each one missing or mistyped.
type fieldSpec struct {
	name string
	kind fieldKind
}

func checkFields(t testing.TB, f *data.Frame, specs ...fieldSpec) bool {
	t.Helper()
	ok := true
	for _, s := range specs {
		fl := field(f, s.name)
		if fl == nil {
			t.Errorf("frame %q: no field %q (%s); fields: %v", f.Name, s.name, s.kind, fieldNames(f))
			ok = false
			continue
		}
		if !s.kind.accepts(fl.Type()) {
			t.Errorf("frame %q: field %q is %s, want %s", f.Name, s.name, fl.Type(), s.kind)
			ok = false
		}
	}
	return ok
}

// annotationFields are Grafana's default annotation mapping.
var annotationFields = []fieldSpec{
	{"time", kTime}, {"timeEnd", kNullableTime}, {"title", kString}, {"text", kString}, {"tags", kString}, {"id", kString},
}

// oneFrame requires exactly one frame.
func oneFrame(t testing.TB, r *Result) *data.Frame {
	t.Helper()
	if len(r.Frames) != 1 {
		t.Fatalf("refId %s: want one frame, got %d:%s", r.RefID, len(r.Frames), describe(r.Frames))
	}
	return r.Frames[0]
}

func rowLen(t testing.TB, f *data.Frame) int {
	t.Helper()
	n, err := f.RowLen()
	if err != nil {
		t.Fatalf("frame %q: fields of different lengths: %v", f.Name, err)
	}
	return n
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

// checkAlertable checks SPEC §4.3: either wide time series, or one frame with exactly one
// numeric field and only string fields besides, each row's strings unique, and a labelled
// value field carries no field config. It returns the rows as "label|label" → value
// (nil for wide series).
func checkAlertable(t testing.TB, r *Result) map[string]float64 {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("refId %s: error %q; an alertable query answers an empty result with a frame, not an error", r.RefID, r.Error)
	}
	if len(r.Frames) == 0 {
		t.Fatalf("refId %s: no frame; an empty result is a frame with no rows", r.RefID)
	}
	allWide := true
	for _, f := range r.Frames {
		if f.TimeSeriesSchema().Type != data.TimeSeriesTypeWide {
			allWide = false
		}
	}
	if allWide {
		return nil
	}
	if len(r.Frames) != 1 {
		t.Fatalf("refId %s: a number table is one frame, got %d:%s", r.RefID, len(r.Frames), describe(r.Frames))
	}
	f := r.Frames[0]
	if typ := f.TimeSeriesSchema().Type; typ != data.TimeSeriesTypeNot {
		t.Fatalf("refId %s: TimeSeriesSchema type %s, want not (number table) or wide:%s", r.RefID, typ, describe(r.Frames))
	}
	var value *data.Field
	var labels []*data.Field
	for _, fl := range f.Fields {
		switch {
		case fl.Type().Numeric():
			if value != nil {
				t.Fatalf("refId %s: more than one numeric field (%s, %s):%s", r.RefID, value.Name, fl.Name, describe(r.Frames))
			}
			value = fl
		case isStringType(fl.Type()):
			labels = append(labels, fl)
		default:
			t.Fatalf("refId %s: field %q is %s; a number table holds only strings and one number:%s", r.RefID, fl.Name, fl.Type(), describe(r.Frames))
		}
	}
	if value == nil {
		t.Fatalf("refId %s: no numeric field:%s", r.RefID, describe(r.Frames))
	}
	if len(value.Labels) > 0 && value.Config != nil {
		t.Errorf("refId %s: value field %q has labels and a field config (SDK 0.5 drops the labels)", r.RefID, value.Name)
	}
	rows := map[string]float64{}
	for i := 0; i < rowLen(t, f); i++ {
		parts := make([]string, len(labels))
		for j, l := range labels {
			parts[j] = l.Name + "=" + stringAt(l, i)
		}
		key := strings.Join(parts, "|")
		if _, dup := rows[key]; dup {
			t.Errorf("refId %s: two rows with the same strings %q: Grafana would make one alert instance of them", r.RefID, key)
		}
		v, ok := floatAt(t, value, i)
		if !ok {
			v = math.NaN()
		}
		rows[key] = v
	}
	return rows
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wideSeries reads wide time-series frames into (field name, labels) → time → value.
func wideSeries(t testing.TB, r *Result) map[string]map[int64]float64 {
	t.Helper()
	out := map[string]map[int64]float64{}
	for _, f := range r.Frames {
		s := f.TimeSeriesSchema()
		if s.Type != data.TimeSeriesTypeWide {
			t.Fatalf("refId %s: frame %q is %s, want a wide time series:%s", r.RefID, f.Name, s.Type, describe(r.Frames))
		}
		tf := f.Fields[s.TimeIndex]
		if tf.Type() != data.FieldTypeTime {
			t.Errorf("refId %s: time field %q is %s, want time.Time", r.RefID, tf.Name, tf.Type())
		}
		for _, vi := range s.ValueIndices {
			vf := f.Fields[vi]
			if !vf.Type().Numeric() {
				t.Errorf("refId %s: value field %q is %s, want numeric", r.RefID, vf.Name, vf.Type())
				continue
			}
			key := vf.Name + labelsSuffix(vf)
			if out[key] == nil {
				out[key] = map[int64]float64{}
			}
			for i := 0; i < vf.Len(); i++ {
				var ts time.Time
				switch v := tf.At(i).(type) {
				case time.Time:
					ts = v
				case *time.Time:
					if v != nil {
						ts = *v
					}
				}
				if v, ok := floatAt(t, vf, i); ok {
					out[key][ts.UnixMilli()] = v
				}
			}
		}
	}
	return out
}

func seriesKey(name, labelKey, labelValue string) string {
	return fmt.Sprintf("%s{%s=%s}", name, labelKey, labelValue)
}
