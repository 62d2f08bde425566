package io.nomadshell.daemon.tool.desktop;

/**
 * The screen's size and the size of the screenshots the model sees (fitted into
 * {@value #MAX_WIDTH}x{@value #MAX_HEIGHT}, aspect kept), and the mapping between the two.
 */
record ScreenScale(int screenWidth, int screenHeight, int imageWidth, int imageHeight) {

    static final int MAX_WIDTH = 1280;
    static final int MAX_HEIGHT = 800;

    static ScreenScale of(int screenWidth, int screenHeight) {
        double factor = Math.min(1.0, Math.min((double) MAX_WIDTH / screenWidth, (double) MAX_HEIGHT / screenHeight));
        return new ScreenScale(screenWidth, screenHeight,
                Math.max(1, (int) Math.round(screenWidth * factor)),
                Math.max(1, (int) Math.round(screenHeight * factor)));
    }

    boolean scaled() {
        return imageWidth != screenWidth || imageHeight != screenHeight;
    }

    /** A screenshot x (0..imageWidth-1) on the screen. */
    int screenX(int x) {
        return Math.min(screenWidth - 1, (int) Math.round(x * (double) screenWidth / imageWidth));
    }

    int screenY(int y) {
        return Math.min(screenHeight - 1, (int) Math.round(y * (double) screenHeight / imageHeight));
    }

    /** A screen x in screenshot pixels. */
    int imageX(int x) {
        return Math.min(imageWidth - 1, (int) Math.round(x * (double) imageWidth / screenWidth));
    }

    int imageY(int y) {
        return Math.min(imageHeight - 1, (int) Math.round(y * (double) imageHeight / screenHeight));
    }
}
