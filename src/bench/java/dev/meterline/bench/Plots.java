package dev.meterline.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Draws a bar chart (median, with a min–max whisker) to a PNG with Java2D, headless. */
final class Plots {

    private static final int W = 640;
    private static final int H = 360;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;

    private Plots() {
    }

    static void bars(Path file, String title, String xLabel, Map<String, List<Result>> data,
                     ToDoubleFunction<Result> f, String yLabel, boolean drawRatio) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        double max = 0;
        for (List<Result> rs : data.values()) {
            max = Math.max(max, Result.stats(rs, f)[2]);
            if (drawRatio) {
                max = Math.max(max, Result.stats(rs, r -> r.reference)[0] / 1e6);
            }
        }
        max = niceCeiling(max);
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.BLACK);
        g.drawString(title, LEFT, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int i = 0; i <= 5; i++) {
            double v = max * i / 5;
            int y = TOP + plotH - (int) (plotH * i / 5.0);
            g.setColor(new Color(225, 225, 225));
            g.drawLine(LEFT, y, LEFT + plotW, y);
            g.setColor(Color.DARK_GRAY);
            String s = max >= 10 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
            g.drawString(s, LEFT - 8 - g.getFontMetrics().stringWidth(s), y + 4);
        }
        g.drawString(yLabel, 8, TOP - 8);
        g.drawString(xLabel, LEFT + plotW / 2 - 20, H - 10);
        int n = data.size();
        int slot = plotW / Math.max(1, n);
        int i = 0;
        for (Map.Entry<String, List<Result>> e : data.entrySet()) {
            double[] s = Result.stats(e.getValue(), f);
            int x = LEFT + i * slot + slot / 4;
            int bw = slot / 2;
            int yMed = TOP + plotH - (int) (plotH * s[0] / max);
            g.setColor(new Color(70, 130, 180));
            g.fillRect(x, yMed, bw, TOP + plotH - yMed);
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.5f));
            int yMin = TOP + plotH - (int) (plotH * s[1] / max);
            int yMax = TOP + plotH - (int) (plotH * s[2] / max);
            g.drawLine(x + bw / 2, yMin, x + bw / 2, yMax);
            g.drawLine(x + bw / 2 - 6, yMin, x + bw / 2 + 6, yMin);
            g.drawLine(x + bw / 2 - 6, yMax, x + bw / 2 + 6, yMax);
            if (drawRatio) {
                double ref = Result.stats(e.getValue(), r -> r.reference)[0] / 1e6;
                int yRef = TOP + plotH - (int) (plotH * ref / max);
                g.setColor(new Color(200, 60, 60));
                g.setStroke(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[]{5, 4}, 0));
                g.drawLine(x - 6, yRef, x + bw + 6, yRef);
                g.setStroke(new BasicStroke(1));
            }
            g.setColor(Color.BLACK);
            String label = e.getKey();
            g.drawString(label, x + bw / 2 - g.getFontMetrics().stringWidth(label) / 2, TOP + plotH + 16);
            String val = String.format(Locale.ROOT, s[0] >= 10 ? "%.0f" : "%.2f", s[0]);
            g.drawString(val, x + bw / 2 - g.getFontMetrics().stringWidth(val) / 2, yMed - 4);
            i++;
        }
        if (drawRatio) {
            g.setColor(new Color(200, 60, 60));
            String legend = "- - bare Jackson + HashMap loop (same bytes, same run)";
            g.drawString(legend, W - RIGHT - g.getFontMetrics().stringWidth(legend), TOP - 8);
        }
        g.setColor(Color.BLACK);
        g.drawLine(LEFT, TOP + plotH, LEFT + plotW, TOP + plotH);
        g.drawLine(LEFT, TOP, LEFT, TOP + plotH);
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[]{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v * 1.05) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
