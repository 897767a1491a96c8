package model

import (
	"fmt"
	"strings"
	"unicode"
)

// didYouMean returns `did you mean "x"?` for the candidate closest to s by
// edit distance, or "" when none is close enough to be a plausible typo.
// Ties go to the candidate listed first.
func didYouMean(s string, candidates []string) string {
	if best := Closest(s, candidates); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return ""
}

// Closest returns the candidate nearest to s by case-insensitive edit
// distance when it is near enough to be a plausible typo, or "". Ties go to
// the candidate listed first. The analysis uses it for the names given on
// the command line (events, flows, components).
func Closest(s string, candidates []string) string {
	limit := min(1+len(s)/4, 3)
	ls := []rune(strings.ToLower(s))
	var lc []rune // reused for each candidate
	best, bestDist := "", limit+1
	for _, c := range candidates {
		// Each edit changes the length by at most 4 bytes: skip, without
		// allocating, what cannot beat the best so far.
		if diff := len(c) - len(s); c == s || diff >= bestDist*4 || -diff >= bestDist*4 {
			continue
		}
		lc = lc[:0]
		for _, r := range c {
			lc = append(lc, unicode.ToLower(r))
		}
		// A suggestion must keep something of what was typed.
		if dist := editDistance(ls, lc, bestDist-1); dist < bestDist && dist < len(ls) {
			best, bestDist = c, dist
		}
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b, or a
// number greater than limit once it is known to exceed limit.
func editDistance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
