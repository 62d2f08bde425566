package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A value made on first use, once: an idle daemon does not load the classes of tools nobody called
 * (the desktop's images, Jupyter's HTTP client and JSON, the zip writer). Safe to use from many threads.
 */
public final class Lazy<T> {

    private final Supplier<T> make;
    private volatile @Nullable T value;

    private Lazy(Supplier<T> make) {
        this.make = make;
    }

    public static <T> Lazy<T> of(Supplier<T> make) {
        return new Lazy<>(requireNonNull(make, "make"));
    }

    public T get() {
        T made = value;
        if (made == null) {
            synchronized (this) {
                made = value;
                if (made == null) {
                    made = requireNonNull(make.get(), "a lazy value");
                    value = made;
                }
            }
        }
        return made;
    }

    /** Runs {@code action} on the value if it was made; never makes it. */
    public void ifMade(Consumer<T> action) {
        T made = value;
        if (made != null) {
            action.accept(made);
        }
    }
}
