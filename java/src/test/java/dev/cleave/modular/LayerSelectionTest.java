package dev.cleave.modular;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.List;
import org.eclipse.collections.api.list.primitive.IntList;
import org.junit.jupiter.api.Test;

class LayerSelectionTest {
    @Test
    void hiddenAllAndListsSelectInTheGivenOrder() {
        assertArrayEquals(new int[] {1, 2}, LayerSelection.indices("hidden", 4, "--layers").toArray());
        assertArrayEquals(new int[] {1, 2}, LayerSelection.indices(null, 4, "--layers").toArray());
        assertArrayEquals(new int[] {0, 1, 2, 3}, LayerSelection.indices(" all ", 4, "--layers").toArray());
        assertArrayEquals(new int[] {3, 0, 2}, LayerSelection.indices("3, 0,2", 4, "--layers").toArray());
        // the list's text form is the one error messages print
        assertEquals("[1, 2]", LayerSelection.indices("hidden", 4, "--layers").toString());
    }

    @Test
    void badListsNameTheOption() {
        assertTrue(message(() -> LayerSelection.indices("1,1", 4, "--modular-layers"))
                .contains("--modular-layers 1,1 names layer 1 twice"));
        assertTrue(message(() -> LayerSelection.indices("4", 4, "--layers")).contains("--layers: layer 4 does not exist"));
        assertTrue(message(() -> LayerSelection.indices("-1", 4, "--layers")).contains("layer -1 does not exist"));
        assertTrue(message(() -> LayerSelection.indices("hidden", 2, "--k-layers")).contains("--k-layers hidden selects no layer"));
    }

    @Test
    void namesResolveToIndices() {
        List<String> weights = List.of("fc1.weight", "fc2.weight", "fc3.weight");
        assertEquals(List.of("fc3", "fc1.weight"), LayerSelection.names("fc3,fc1.weight"));
        assertEquals(List.of(), LayerSelection.names("1,2"));
        IntList at = LayerSelection.indicesOf(List.of("fc3", "fc1.weight"), weights, "--layers");
        assertArrayEquals(new int[] {2, 0}, at.toArray());
        assertTrue(message(() -> LayerSelection.indicesOf(List.of("fc2", "fc2.weight"), weights, "--layers"))
                .contains("names layer fc2.weight twice"));
        assertTrue(message(() -> LayerSelection.indicesOf(List.of("fc9"), weights, "--layers")).contains("names 'fc9'"));
    }

    @Test
    void clustersMustFitEverySelectedLayer() {
        int[] widths = {8, 6, 3, 10};
        LayerSelection.requireClustersFit(LayerSelection.indices("0,2", 3, "--layers"), widths, 3, "--k");
        String e = message(() -> LayerSelection.requireClustersFit(LayerSelection.indices("0,1", 3, "--layers"), widths, 4, "--k"));
        assertTrue(e.contains("--k 4 is more clusters than layer 1 can hold (its weight is 3 x 6"), e);
        List<FloatMatrix> weights = List.of(FloatMatrix.zeros(6, 8), FloatMatrix.zeros(3, 6), FloatMatrix.zeros(10, 3));
        LayerSelection.requireClustersFit(LayerSelection.indices("all", 3, "--layers"), weights, 3, "--k");
        e = message(() -> LayerSelection.requireClustersFit(LayerSelection.indices("2", 3, "--layers"), weights, 5, "--k"));
        assertTrue(e.contains("layer 2 can hold (its weight is 10 x 3"), e);
    }

    private static String message(Runnable r) {
        return assertThrows(InvalidInputException.class, r::run).getMessage();
    }
}
