// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title GrantPool
/// @notice A grant pool run by a governor.
contract GrantPoolTest012 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public serviceFeeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public balances;
    mapping(address => bool) public isMember;
    address[] public members;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        serviceFeeBps = initialFee;
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        members.push(msg.sender);
    }

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        balances[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice The ether the pool owes its members.
    function pooledEther() external view returns (uint256) {
        return poolTotal;
    }

    /// @notice Send the caller's whole balance back to the caller.
    function claim() external {
        uint256 amount = balances[msg.sender];
        require(amount > 0, "nothing to claim");
        balances[msg.sender] = 0;
        poolTotal -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function setFee(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(serviceFeeBps, newFee);
        serviceFeeBps = newFee;
    }

    /// @notice The protocol fee on `amount`, in wei.
    function previewFee(uint256 amount) public view returns (uint256) {
        return amount * serviceFeeBps / BPS_DENOMINATOR;
    }

    /// @notice `account`'s share of the pool, in basis points.
    function sharePercent(address account) external view returns (uint256) {
        if (poolTotal == 0) {
            return 0;
        }
        return balances[account] * BPS_DENOMINATOR / poolTotal;
    }
}
