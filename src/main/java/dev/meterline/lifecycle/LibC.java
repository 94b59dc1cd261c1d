package dev.meterline.lifecycle;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/** The C library's {@code setpriority}, bound through JNA on Linux only. */
final class LibC {

    /** {@code which} for one process or, on Linux, one thread. */
    private static final int PRIO_PROCESS = 0;

    private LibC() {
    }

    /**
     * The call that sets the calling thread's nice value. On Linux the nice value belongs to a thread, and
     * {@code setpriority(PRIO_PROCESS, 0, n)} sets the caller's; elsewhere it would set the whole process's, so
     * nothing is bound there.
     *
     * @throws UnsupportedOperationException when the system is not Linux
     * @throws LinkageError                  when the native library cannot be loaded
     */
    static Niceness.Renice bind() {
        if (!Platform.isLinux()) {
            throw new UnsupportedOperationException("thread nice values are set on Linux only, not on "
                    + System.getProperty("os.name"));
        }
        Native.register(LibC.class, Platform.C_LIBRARY_NAME);
        return nice -> setpriority(PRIO_PROCESS, 0, nice);
    }

    private static native int setpriority(int which, int who, int prio) throws LastErrorException;
}
