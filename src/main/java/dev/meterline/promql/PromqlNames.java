package dev.meterline.promql;

import dev.meterline.promql.Expr.AggregateOp;
import dev.meterline.promql.Expr.BinaryOp;
import dev.meterline.promql.Expr.Function;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The operator, aggregation and function names of full PromQL, so that valid PromQL outside the evaluated subset
 * is reported unsupported rather than taken for a misspelling.
 */
final class PromqlNames {

    /** Every aggregation operator of PromQL; the ones outside {@link AggregateOp} are reported unsupported. */
    private static final Set<String> AGGREGATIONS = Set.of("sum", "avg", "min", "max", "count", "topk", "bottomk",
            "group", "stddev", "stdvar", "quantile", "count_values", "limitk", "limit_ratio");
    /** Every function of PromQL, so that one outside the subset is told from a misspelling. */
    private static final Set<String> FUNCTIONS = Set.of("abs", "absent", "absent_over_time", "acos", "acosh", "asin",
            "asinh", "atan", "atanh", "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos",
            "cosh", "count_over_time", "days_in_month", "day_of_month", "day_of_week", "day_of_year", "deg", "delta",
            "deriv", "exp", "floor", "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile",
            "histogram_sum", "histogram_stddev", "histogram_stdvar", "double_exponential_smoothing", "holt_winters",
            "hour", "idelta", "increase", "irate", "label_replace", "label_join", "last_over_time", "ln", "log10",
            "log2", "mad_over_time", "max_over_time", "min_over_time", "minute", "month", "pi", "predict_linear",
            "present_over_time", "quantile_over_time", "rad", "rate", "resets", "round", "scalar", "sgn", "sin",
            "sinh", "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "sqrt", "stddev_over_time",
            "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "vector", "year");
    private static final Map<String, BinaryOp> WORD_OPS = Map.of("and", BinaryOp.AND, "or", BinaryOp.OR,
            "unless", BinaryOp.UNLESS);

    private PromqlNames() {
    }

    /** True when {@code lower} names a PromQL aggregation, evaluated here or not. */
    static boolean isAggregation(String lower) {
        return AGGREGATIONS.contains(lower);
    }

    /** True when {@code name} names a PromQL function, evaluated here or not. */
    static boolean isFunction(String name) {
        return FUNCTIONS.contains(name);
    }

    /** The evaluated aggregation {@code lower} names; one outside the subset fails as unsupported. */
    static AggregateOp aggregation(String lower) {
        try {
            return AggregateOp.valueOf(lower.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw PromException.unsupported("the aggregation " + lower);
        }
    }

    /** The evaluated function {@code name} names; one outside the subset fails as unsupported. */
    static Function function(String name) {
        try {
            return Function.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw PromException.unsupported("the function " + name);
        }
    }

    /** The set operator {@code word} spells, or null when it spells none; {@code atan2} fails as unsupported. */
    static BinaryOp wordOperator(String word) {
        if (word.equalsIgnoreCase("atan2")) {
            throw PromException.unsupported("the binary operator atan2");
        }
        return WORD_OPS.get(word.toLowerCase(Locale.ROOT));
    }
}
