package media

// G.711 A-law <-> µ-law transcoding, sample by sample, by table lookup.
// The agent leg only speaks PCMU, so a trunk that answers PCMA has its
// audio converted both ways (one table lookup per byte, no linear step).
//
// The mappings are ITU-T G.711 Tables 3 and 4 (µ-law <-> A-law, with the
// 1994 corrections), stored by magnitude: index i is the i-th smallest
// magnitude of the source law, the value is the (1-based) magnitude index
// of the target law. Sign is carried over; the wire form applies the
// laws' bit inversions (µ-law: all bits, A-law: even bits, 0x55).

var ulawToAlawMag = [128]byte{
	1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8,
	9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
	25, 27, 29, 31, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
	46, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
	64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
	80, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96,
	97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112,
	113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128,
}

var alawToUlawMag = [128]byte{
	1, 3, 5, 7, 9, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23,
	24, 25, 26, 27, 28, 29, 30, 31, 32, 32, 33, 33, 34, 34, 35, 35,
	36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 48, 49, 49,
	50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 64,
	65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80,
	80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
	96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
	112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127,
}

// ulawToAlaw and alawToUlaw convert one wire byte; built once from the
// magnitude tables above.
var ulawToAlaw, alawToUlaw [256]byte

func init() {
	for b := 0; b < 256; b++ {
		// µ-law wire byte: inverted; after inversion bit 7 set = negative,
		// bits 0-6 = magnitude index.
		u := ^byte(b)
		neg := u&0x80 != 0
		a := ulawToAlawMag[u&0x7f] - 1 // A-law magnitude index
		if !neg {
			a |= 0x80 // A-law: sign bit set = positive
		}
		ulawToAlaw[b] = a ^ 0x55

		// A-law wire byte: even bits inverted; bit 7 set = positive.
		x := byte(b) ^ 0x55
		m := alawToUlawMag[x&0x7f]
		if m > 127 {
			m = 127
		}
		if x&0x80 == 0 {
			m |= 0x80 // µ-law: sign bit set (before inversion) = negative
		}
		alawToUlaw[b] = ^m
	}
}

// ulawToAlawInPlace converts a PCMU payload to PCMA.
func ulawToAlawInPlace(p []byte) {
	for i, b := range p {
		p[i] = ulawToAlaw[b]
	}
}

// alawToUlawInPlace converts a PCMA payload to PCMU.
func alawToUlawInPlace(p []byte) {
	for i, b := range p {
		p[i] = alawToUlaw[b]
	}
}
