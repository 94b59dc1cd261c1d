package dev.meterline.ingest;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WordsTest {

    @Test
    void findsTheFirstByteOfAWordThatIsZeroWhateverFollowsIt() {
        SplittableRandom random = new SplittableRandom(7);
        byte[] b = new byte[8];
        for (int run = 0; run < 200_000; run++) {
            for (int k = 0; k < 8; k++) {
                // Zeros, ones and 0x80 are where borrows go wrong; mix them in often.
                int pick = random.nextInt(8);
                b[k] = (byte) (pick == 0 ? 0 : pick == 1 ? 1 : pick == 2 ? 0x80 : random.nextInt(256));
            }
            int expected = -1;
            for (int k = 0; k < 8; k++) {
                if (b[k] == 0) {
                    expected = k;
                    break;
                }
            }
            long marks = Words.zeroBytes(Words.at(b, 0));
            if (expected < 0) {
                assertEquals(0, marks, () -> "no zero byte in " + Arrays.toString(b));
            } else {
                int first = expected;
                assertEquals(first, Words.first(marks), () -> "first zero byte of " + Arrays.toString(b));
            }
        }
    }

    @Test
    void readsTheFirstByteIntoTheLowestBitsAndRepeatsAByte() {
        byte[] b = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertEquals(0x0908_0706_0504_0302L, Words.at(b, 1));
        assertEquals(0x0A0A_0A0A_0A0A_0A0AL, Words.repeated('\n'));
    }

    @Test
    void findsTheFirstOfAByteAsAByteLoopDoesWhereverTheRangeStartsAndEnds() {
        SplittableRandom rnd = new SplittableRandom(0x1dea);
        for (int t = 0; t < 20_000; t++) {
            byte[] b = new byte[rnd.nextInt(72)];
            // The byte sought one in `density` bytes, so that it also falls in later words; else its neighbours, so
            // that borrows run between bytes.
            int density = 1 + rnd.nextInt(40);
            for (int i = 0; i < b.length; i++) {
                int near = rnd.nextInt(density) == 0 ? 0 : rnd.nextBoolean() ? rnd.nextInt(1, 3) : -rnd.nextInt(1, 3);
                b[i] = (byte) ('}' + near + (rnd.nextInt(8) == 0 ? 0x80 : 0));
            }
            int from = b.length == 0 ? 0 : rnd.nextInt(b.length + 1);
            int to = from + rnd.nextInt(b.length - from + 1);
            int expected = -1;
            for (int i = from; i < to; i++) {
                if (b[i] == '}') {
                    expected = i;
                    break;
                }
            }
            assertEquals(expected, Words.indexOf(b, from, to, Words.repeated('}')), Arrays.toString(b) + " " + from
                    + ".." + to);
        }
    }
}
