"""Which demo department implements an item, and where people go to do it.

Each profile names the 广安市 department and, where the county level has one, the 广安区
counterpart (both must be in :data:`zwfw.core.demo.DEPARTMENTS`), plus the window of the
service hall (政务服务中心) that handles its items.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY_HALL = "广安市政务服务中心（广安市广安区金安大道一段）"
DISTRICT_HALL = "广安区政务服务中心（广安市广安区）"
HOURS = "周一至周五（法定节假日除外）上午9:00—12:00，下午14:00—17:30"


@dataclass(frozen=True)
class Profile:
    city: str
    district: str | None
    window: str
    city_unit: str = ""
    district_unit: str = ""


PROFILES: dict[str, Profile] = {
    "government": Profile("广安市人民政府", "广安市广安区人民政府", "综合受理窗口"),
    "public_security": Profile(
        "广安市公安局",
        "广安市公安局广安区分局",
        "公安综合窗口",
        "广安市公安局治安管理支队",
        "广安市公安局广安区分局治安管理大队",
    ),
    "civil_affairs": Profile(
        "广安市民政局",
        "广安区民政局",
        "民政窗口",
        "广安市民政局社会事务科",
        "广安区民政局社会救助股",
    ),
    "market": Profile(
        "广安市市场监督管理局",
        "广安区市场监督管理局",
        "市场准入窗口",
        "广安市市场监督管理局行政审批科",
        "广安区市场监督管理局行政审批股",
    ),
    "natural_resources": Profile(
        "广安市自然资源和规划局", None, "自然资源和规划窗口", "广安市自然资源和规划局"
    ),
    "housing": Profile(
        "广安市住房和城乡建设局",
        "广安区住房和城乡建设局",
        "住房城乡建设窗口",
        "广安市住房和城乡建设局行政审批科",
        "广安区住房和城乡建设局行政审批股",
    ),
    "ecology": Profile(
        "广安市生态环境局", None, "生态环境窗口", "广安市生态环境局环境影响评价与排放管理科"
    ),
    "human_resources": Profile(
        "广安市人力资源和社会保障局",
        "广安区人力资源和社会保障局",
        "社保就业窗口",
        "广安市社会保险事业管理局",
        "广安区社会保险事业管理局",
    ),
    "health": Profile(
        "广安市卫生健康委员会",
        "广安区卫生健康局",
        "卫生健康窗口",
        "广安市卫生健康委员会行政审批科",
        "广安区卫生健康局",
    ),
    "medical_security": Profile(
        "广安市医疗保障局",
        "广安区医疗保障局",
        "医保窗口",
        "广安市医疗保障事务中心",
        "广安区医疗保障事务中心",
    ),
    "housing_fund": Profile(
        "广安市住房公积金管理中心", None, "住房公积金窗口", "广安市住房公积金管理中心"
    ),
    "transport": Profile(
        "广安市交通运输局",
        "广安区交通运输局",
        "交通运输窗口",
        "广安市道路运输管理所",
        "广安区道路运输管理所",
    ),
    "education": Profile(
        "广安市教育局", "广安区教育局", "教育窗口", "广安市教育局", "广安区教育局基础教育股"
    ),
    "veterans": Profile(
        "广安市退役军人事务局",
        "广安区退役军人事务局",
        "退役军人服务窗口",
        "广安市退役军人事务局",
        "广安区退役军人服务中心",
    ),
    "emergency": Profile(
        "广安市应急管理局",
        "广安区应急管理局",
        "应急管理窗口",
        "广安市应急管理局",
        "广安区应急管理局",
    ),
    "culture": Profile(
        "广安市文化广播电视和旅游局", None, "文化旅游窗口", "广安市文化广播电视和旅游局"
    ),
    "water": Profile("广安市水利局", None, "水利窗口", "广安市水利局"),
    "justice": Profile(
        "广安市司法局", "广安区司法局", "法律援助窗口", "广安市法律援助中心", "广安区法律援助中心"
    ),
    "agriculture": Profile(
        "广安市农业农村局",
        "广安区农业农村局",
        "农业农村窗口",
        "广安市农业农村局",
        "广安区农业农村局",
    ),
}
