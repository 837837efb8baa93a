package media

import "testing"

// Independent G.711 decoders (the formulas of the standard's Table 1 and 2,
// in 16-bit linear units) to check the transcoding tables against.
func decodeUlaw(u byte) int {
	u = ^u
	v := ((int(u&0x0f) << 3) + 0x84) << ((u >> 4) & 7)
	v -= 0x84
	if u&0x80 != 0 {
		return -v
	}
	return v
}

func decodeAlaw(a byte) int {
	a ^= 0x55
	seg, mant := int(a>>4)&7, int(a&0x0f)
	v := mant<<4 + 8
	if seg > 0 {
		v = (mant<<4 + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return v
	}
	return -v
}

// Wire forms of a sample by sign and magnitude index (0 = smallest).
func ulawWire(neg bool, mag byte) byte {
	if neg {
		return ^(0x80 | mag)
	}
	return ^mag
}

func alawWire(neg bool, mag byte) byte {
	if neg {
		return mag ^ 0x55
	}
	return (0x80 | mag) ^ 0x55
}

func TestG711ReferenceValues(t *testing.T) {
	// Pairs of magnitude indexes from G.711 Tables 3 and 4: the smallest
	// steps (µ-law is finer there, so codes merge), segment borders, the
	// entries fixed by the 1994 corrections (µ 80, A 79) and full scale.
	u2a := [][2]byte{{0, 0}, {1, 0}, {2, 1}, {16, 8}, {17, 9}, {32, 24}, {33, 26}, {48, 45}, {79, 78}, {80, 79}, {81, 81}, {127, 127}}
	a2u := [][2]byte{{0, 1}, {1, 3}, {7, 15}, {8, 16}, {24, 32}, {25, 32}, {45, 48}, {63, 64}, {79, 80}, {80, 80}, {81, 81}, {127, 127}}
	for _, neg := range []bool{false, true} {
		for _, p := range u2a {
			if got, want := ulawToAlaw[ulawWire(neg, p[0])], alawWire(neg, p[1]); got != want {
				t.Errorf("µ-law magnitude %d (neg %v): A-law %#02x, want %#02x", p[0], neg, got, want)
			}
		}
		for _, p := range a2u {
			if got, want := alawToUlaw[alawWire(neg, p[0])], ulawWire(neg, p[1]); got != want {
				t.Errorf("A-law magnitude %d (neg %v): µ-law %#02x, want %#02x", p[0], neg, got, want)
			}
		}
	}
	// Well-known wire bytes: µ-law silence 0xFF is A-law 0xD5, full scale maps to full scale.
	if ulawToAlaw[0xFF] != 0xD5 || ulawToAlaw[0x80] != 0xAA || alawToUlaw[0x2A] != 0x00 {
		t.Errorf("silence/full scale: %#02x %#02x %#02x", ulawToAlaw[0xFF], ulawToAlaw[0x80], alawToUlaw[0x2A])
	}
}

func TestG711ConversionKeepsTheSample(t *testing.T) {
	step := func(v int) int { // A-law step size at |v| (the coarser law above 256)
		if v < 0 {
			v = -v
		}
		switch {
		case v < 512:
			return 32
		default:
			s := 32
			for lim := 512; lim <= v && s < 2048; lim <<= 1 {
				s <<= 1
			}
			return s
		}
	}
	prevA := -1 << 20
	for i := 0; i < 256; i++ {
		// Walk codes in increasing linear order: µ-law 0x00..0x7F are the
		// negatives from full scale up, then 0xFF..0x80 the positives.
		u := byte(i)
		if i >= 128 {
			u = byte(0xFF - (i - 128))
		}
		lu, la := decodeUlaw(u), decodeAlaw(ulawToAlaw[u])
		if d := la - lu; d > step(lu) || d < -step(lu) {
			t.Errorf("µ-law %#02x (%d) -> A-law %#02x (%d): off by more than one step", u, lu, ulawToAlaw[u], la)
		}
		if la < prevA {
			t.Errorf("µ->A not monotonic at µ-law %#02x", u)
		}
		prevA = la
	}
	for a := 0; a < 256; a++ {
		la, lu := decodeAlaw(byte(a)), decodeUlaw(alawToUlaw[a])
		if d := lu - la; d > step(la) || d < -step(la) {
			t.Errorf("A-law %#02x (%d) -> µ-law %#02x (%d): off by more than one step", a, la, alawToUlaw[a], lu)
		}
	}
	p := []byte{0xFF, 0x00, 0x80, 0x7F}
	ulawToAlawInPlace(p)
	alawToUlawInPlace(p)
	if p[1] != 0x00 || p[2] != 0x80 {
		t.Fatalf("full scale did not survive µ->A->µ: %x", p)
	}
}
