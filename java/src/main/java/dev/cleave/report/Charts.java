package dev.cleave.report;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * Chart helpers for the report: XChart line, bar and heat-map charts rendered to PNG and
 * embedded as data URIs, and weight matrices rendered pixel per weight (an image, not a chart).
 */
final class Charts {
    static final int WIDTH = 560;
    static final int HEIGHT = 340;

    private Charts() {}

    static XYChart line(String title, String xTitle, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setMarkerSize(4).setChartBackgroundColor(Color.WHITE);
        return c;
    }

    static CategoryChart bars(String title, String xTitle, String yTitle) {
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setChartBackgroundColor(Color.WHITE);
        return c;
    }

    /** A heat map of {@code values[row][col]} with row and column labels. */
    static HeatMapChart heatMap(String title, List<String> cols, List<String> rows, double[][] values, String xTitle,
            String yTitle) {
        HeatMapChart c = new HeatMapChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        c.getStyler().setShowValue(true).setRangeColors(new Color[] {new Color(0x2166ac), Color.WHITE, new Color(0xb2182b)});
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        java.util.ArrayList<Number[]> data = new java.util.ArrayList<>();
        for (int r = 0; r < values.length; r++) {
            for (int col = 0; col < values[r].length; col++) {
                data.add(new Number[] {col, r, Math.round(values[r][col] * 100) / 100.0});
            }
        }
        c.addSeries("values", cols, rows, data);
        return c;
    }

    static String png(Chart<?, ?> chart) {
        try {
            return dataUri(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render chart " + chart.getTitle(), e);
        }
    }

    /**
     * |W| (rows x cols) as an image: rows and columns in the given orders, darker = larger, with
     * thin lines between clusters; scaled to at most {@code maxSide} pixels a side.
     */
    static String weightImage(float[] w, int rows, int cols, int[] rowOrder, int[] colOrder, int[] rowBreaks,
            int[] colBreaks) {
        int scale = Math.max(1, 384 / Math.max(rows, cols));
        BufferedImage img = new BufferedImage(cols * scale, rows * scale, BufferedImage.TYPE_INT_RGB);
        float max = 1e-12f;
        float[] abs = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            abs[i] = Math.abs(w[i]);
        }
        float[] sorted = abs.clone();
        java.util.Arrays.sort(sorted);
        max = Math.max(max, sorted[(int) Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]); // 99th percentile
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = Math.min(1f, abs[rowOrder[r] * cols + colOrder[c]] / max);
                int g = Math.round(255 * (1 - (float) Math.sqrt(v)));
                int rgb = (g << 16) | (g << 8) | 255;
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) {
                        img.setRGB(c * scale + dx, r * scale + dy, rgb);
                    }
                }
            }
        }
        int red = 0xd62728;
        for (int b : rowBreaks) {
            for (int x = 0; x < cols * scale; x++) {
                img.setRGB(x, Math.min(rows * scale - 1, b * scale), red);
            }
        }
        for (int b : colBreaks) {
            for (int y = 0; y < rows * scale; y++) {
                img.setRGB(Math.min(cols * scale - 1, b * scale), y, red);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dataUri(out.toByteArray());
    }

    private static String dataUri(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }
}
