package io.nomadshell.daemon;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this process non-dumpable ({@code prctl(PR_SET_DUMPABLE, 0)}): processes of the same uid, the
 * tools the daemon runs among them, can then neither ptrace it nor read its {@code /proc/<pid>/mem}
 * or {@code environ}, where the Attach credentials live.
 */
final class NonDumpable {
    private static final Logger log = LoggerFactory.getLogger(NonDumpable.class);
    private static final int PR_SET_DUMPABLE = 4;

    private NonDumpable() {}

    /** Returns whether it worked; a warning is logged when not (no Linux, no prctl). */
    static boolean apply() {
        try {
            Linker linker = Linker.nativeLinker();
            var prctl = linker.defaultLookup().find("prctl");
            if (prctl.isEmpty()) {
                log.warn("prctl is unavailable: tools running as this user could read the daemon's memory");
                return false;
            }
            // int prctl(int option, ...): the second argument is variadic.
            MethodHandle call = linker.downcallHandle(prctl.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1));
            int result = (int) call.invokeExact(PR_SET_DUMPABLE, 0L);
            if (result != 0) {
                log.warn("prctl(PR_SET_DUMPABLE, 0) failed: tools running as this user could read the daemon's memory");
                return false;
            }
            return true;
        } catch (Throwable e) {
            log.warn("could not make the daemon non-dumpable ({}): tools running as this user could read its memory",
                    e.toString());
            return false;
        }
    }
}
